package dev.metering.stream.usage;

import dev.metering.records.ApiKey;
import dev.metering.stream.ingest.IngestOutcome;
import dev.metering.stream.pricing.PriceBook;
import java.util.Objects;

/**
 * An accepted event, priced once for its key and its organisation alike (see {@link CostHeader}).
 *
 * @param key the event's key as the api-keys table held it when the event was accepted, or null
 */
public record AcceptedUsage(PricedEvent priced, ApiKey key) {

  public AcceptedUsage {
    Objects.requireNonNull(priced, "priced");
  }

  public static AcceptedUsage price(IngestOutcome.Accepted accepted, PriceBook prices) {
    return new AcceptedUsage(PricedEvent.price(accepted.event(), prices), accepted.key());
  }
}
