package dev.metering.stream.usage;

import dev.metering.records.UsageEvent;
import dev.metering.stream.pricing.PriceBook;
import java.util.Objects;

/** A usage event with its cost, computed once and added to every bucket. */
public record PricedEvent(UsageEvent event, long costMicros, boolean fallbackPriced) {

  public PricedEvent {
    Objects.requireNonNull(event, "event");
  }

  public static PricedEvent price(UsageEvent event, PriceBook prices) {
    PriceBook.Quote quote = prices.quote(event.getModel(), event.getTimestamp());
    long cost = quote.prices().costMicros(event.getInputTokens(), event.getOutputTokens(),
        event.getCacheCreationInputTokens(), event.getCacheReadInputTokens());
    return new PricedEvent(event, cost, quote.fallback());
  }

  public long totalTokens() {
    return event.getInputTokens() + event.getOutputTokens()
        + event.getCacheCreationInputTokens() + event.getCacheReadInputTokens();
  }
}
