package dev.metering.stream.ingest;

import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Uses the UsageEvent's own event time as the record time, for events that can be counted.
 * Every other record (undecodable bytes, a null value, an event that fails
 * {@link UsageValidation#checkContent}, one dated too far ahead) is timed at the partition's
 * current stream time, so it reaches the dead-letter topic without moving stream time: not the
 * broker's timestamp, which on usage-events is the append time and would drag a backfill's stream
 * time to the wall clock, and never a negative time, which would make Kafka Streams drop the
 * record silently.
 */
public final class EventTimeExtractor implements TimestampExtractor {

  private final UsageValidation validation;

  public EventTimeExtractor(UsageValidation validation) {
    this.validation = Objects.requireNonNull(validation, "validation");
  }

  @Override
  public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
    if (record.value() instanceof DecodedUsage.Decoded decoded
        && validation.checkContent(record.key(), record.partition(), decoded.event(), System.currentTimeMillis())
            .isEmpty()) {
      return decoded.event().getTimestamp();
    }
    // before the partition's first record there is no stream time: 0 is below every event time
    return Math.max(partitionTime, 0);
  }
}
