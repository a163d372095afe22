package dev.metering.stream.query;

import dev.metering.records.state.ModelUsage;
import dev.metering.records.state.UsageTotals;
import java.math.BigDecimal;

/**
 * Usage as the HTTP API shows it: tokens by kind, their total, requests, and cost both exact
 * (integer micro-dollars) and as decimal dollars.
 */
public record UsageView(
    long inputTokens,
    long outputTokens,
    long cacheCreationInputTokens,
    long cacheReadInputTokens,
    long totalTokens,
    long requests,
    long costMicros,
    BigDecimal estimatedCost,
    long fallbackPricedRequests) {

  public static final UsageView EMPTY = of(0, 0, 0, 0, 0, 0, 0);

  public static UsageView of(long input, long output, long cacheCreation, long cacheRead, long requests,
      long costMicros, long fallbackPriced) {
    return new UsageView(input, output, cacheCreation, cacheRead, input + output + cacheCreation + cacheRead,
        requests, costMicros, BigDecimal.valueOf(costMicros, 6), fallbackPriced);
  }

  public static UsageView of(UsageTotals t) {
    return of(t.getInputTokens(), t.getOutputTokens(), t.getCacheCreationInputTokens(), t.getCacheReadInputTokens(),
        t.getRequests(), t.getCostMicros(), t.getFallbackPricedRequests());
  }

  public static UsageView of(ModelUsage m) {
    return of(m.getInputTokens(), m.getOutputTokens(), m.getCacheCreationInputTokens(), m.getCacheReadInputTokens(),
        m.getRequests(), m.getCostMicros(), m.getFallbackPricedRequests());
  }

  public UsageView plus(UsageView o) {
    return of(inputTokens + o.inputTokens, outputTokens + o.outputTokens,
        cacheCreationInputTokens + o.cacheCreationInputTokens, cacheReadInputTokens + o.cacheReadInputTokens,
        requests + o.requests, costMicros + o.costMicros, fallbackPricedRequests + o.fallbackPricedRequests);
  }
}
