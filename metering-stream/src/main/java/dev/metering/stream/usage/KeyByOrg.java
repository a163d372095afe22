package dev.metering.stream.usage;

import dev.metering.records.UsageEvent;
import org.apache.kafka.streams.processor.api.ContextualProcessor;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Sends an accepted event on to its organisation's task: keyed by org_id (the key's registered
 * organisation, see ingest), with the cost its key task gave it ({@link CostHeader}).
 */
public final class KeyByOrg extends ContextualProcessor<String, AcceptedUsage, String, UsageEvent> {

  @Override
  public void process(Record<String, AcceptedUsage> record) {
    PricedEvent priced = record.value().priced();
    context().forward(new Record<>(priced.event().getOrgId(), priced.event(), record.timestamp(),
        CostHeader.of(priced)));
  }
}
