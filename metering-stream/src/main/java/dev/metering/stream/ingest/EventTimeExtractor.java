package dev.metering.stream.ingest;

import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * Uses the UsageEvent's own event time as the record time. Records without a plausible event
 * time keep the broker's timestamp instead, and validation sends them to the dead-letter topic:
 * an undecodable value or a negative time (returning a negative time would make Kafka Streams
 * drop the record silently), and a time too far in the future (one bad clock must not drag the
 * task's stream time ahead and make every honest event look late).
 */
public final class EventTimeExtractor implements TimestampExtractor {

  private final long futureToleranceMillis;

  public EventTimeExtractor(Duration futureTolerance) {
    this.futureToleranceMillis = futureTolerance.toMillis();
  }

  @Override
  public long extract(ConsumerRecord<Object, Object> record, long partitionTime) {
    if (record.value() instanceof DecodedUsage.Decoded decoded) {
      long eventTime = decoded.event().getTimestamp();
      if (eventTime >= 0 && eventTime <= System.currentTimeMillis() + futureToleranceMillis) {
        return eventTime;
      }
    }
    return record.timestamp() >= 0 ? record.timestamp() : Math.max(partitionTime, 0);
  }
}
