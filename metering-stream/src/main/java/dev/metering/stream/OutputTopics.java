package dev.metering.stream;

import dev.metering.records.LimitEvent;
import dev.metering.records.UsageSpike;
import dev.metering.schemas.Topics;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.processor.RecordContext;
import org.apache.kafka.streams.processor.TopicNameExtractor;

/** Routes the per-key and per-org processors' outputs to limit-events or spike-events by their type. */
final class OutputTopics implements TopicNameExtractor<String, SpecificRecord> {

  @Override
  public String extract(String key, SpecificRecord value, RecordContext recordContext) {
    if (value instanceof LimitEvent) {
      return Topics.LIMIT_EVENTS.name();
    }
    if (value instanceof UsageSpike) {
      return Topics.SPIKE_EVENTS.name();
    }
    throw new IllegalArgumentException("no output topic for " + value.getClass().getName());
  }

  /** Writes each value with the serde of its own topic. */
  static Serde<SpecificRecord> valueSerde() {
    Serializer<LimitEvent> limits = Topics.LIMIT_EVENTS.valueSerde().serializer();
    Serializer<UsageSpike> spikes = Topics.SPIKE_EVENTS.valueSerde().serializer();
    Serializer<SpecificRecord> serializer = (topic, value) -> value instanceof LimitEvent limit
        ? limits.serialize(topic, limit)
        : spikes.serialize(topic, (UsageSpike) value);
    return Serdes.serdeFrom(serializer, (topic, bytes) -> {
      throw new UnsupportedOperationException("output values are only written");
    });
  }
}
