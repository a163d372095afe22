package dev.metering.api.query;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.Saturating;
import java.math.BigDecimal;

/**
 * Usage as the HTTP APIs show it: tokens by kind, their total, requests, and cost both exact
 * (integer micro-dollars) and as decimal dollars. Sums stop at Long.MAX_VALUE ({@link Saturating}).
 */
public record UsageView(
    long inputTokens,
    long outputTokens,
    long cacheCreationInputTokens,
    long cacheReadInputTokens,
    long totalTokens,
    long requests,
    @JsonPropertyDescription("the cost in integer micro-dollars") long costMicros,
    @JsonPropertyDescription("dollars, exact to the micro-dollar") BigDecimal estimatedCost,
    @JsonPropertyDescription("requests of models without a price, priced at the fallback price")
    long fallbackPricedRequests) {

  public static final UsageView EMPTY = of(0, 0, 0, 0, 0, 0, 0);

  public static UsageView of(long input, long output, long cacheCreation, long cacheRead, long requests,
      long costMicros, long fallbackPriced) {
    return new UsageView(input, output, cacheCreation, cacheRead,
        Saturating.add(input, output, cacheCreation, cacheRead), requests, costMicros,
        BigDecimal.valueOf(costMicros, 6), fallbackPriced);
  }

  public UsageView plus(UsageView o) {
    return of(Saturating.add(inputTokens, o.inputTokens), Saturating.add(outputTokens, o.outputTokens),
        Saturating.add(cacheCreationInputTokens, o.cacheCreationInputTokens),
        Saturating.add(cacheReadInputTokens, o.cacheReadInputTokens), Saturating.add(requests, o.requests),
        Saturating.add(costMicros, o.costMicros), Saturating.add(fallbackPricedRequests, o.fallbackPricedRequests));
  }
}
