package dev.metering.stream.ingest;

import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/** Reads usage-events values into {@link DecodedUsage} without ever throwing. */
public final class DecodedUsageSerde {

  private DecodedUsageSerde() {
  }

  public static Serde<DecodedUsage> serde() {
    Deserializer<UsageEvent> events = Topics.USAGE_EVENTS.valueSerde().deserializer();
    Deserializer<DecodedUsage> deserializer = (topic, bytes) -> {
      if (bytes == null) {
        return new DecodedUsage.Undecodable(null, new SerializationException("null value (tombstone) on " + topic));
      }
      try {
        return new DecodedUsage.Decoded(events.deserialize(topic, bytes), bytes);
      } catch (SerializationException e) {
        return new DecodedUsage.Undecodable(bytes, e);
      } catch (RuntimeException e) {
        // whatever else bytes a producer chose can make a decoder throw is still their fault, not ours
        return new DecodedUsage.Undecodable(bytes, new SerializationException("cannot decode a UsageEvent: " + e, e));
      }
    };
    Serializer<DecodedUsage> serializer = (topic, decoded) -> decoded == null ? null : decoded.raw();
    return Serdes.serdeFrom(serializer, deserializer);
  }
}
