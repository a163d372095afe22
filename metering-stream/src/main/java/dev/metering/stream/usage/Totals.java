package dev.metering.stream.usage;

import dev.metering.api.Saturating;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.UsageLimits;
import dev.metering.records.state.ModelUsage;
import dev.metering.records.state.UsageTotals;
import java.util.HashMap;
import java.util.Map;

/**
 * Arithmetic on {@link UsageTotals}: the one place a priced event is added to a bucket. Every sum
 * stops at Long.MAX_VALUE rather than wrapping ({@link Saturating}).
 */
public final class Totals {

  private Totals() {
  }

  /**
   * A bucket with nothing in it yet. Built with the constructor: Avro's builder deep-copies each
   * field's schema default, and a key's new hour and day take two of these per event.
   */
  public static UsageTotals empty(String orgId) {
    return new UsageTotals(orgId, 0L, 0L, 0L, 0L, 0L, 0L, 0L, 0L, new HashMap<>());
  }

  /** total_tokens = input + output + cache_creation + cache_read. */
  public static long totalTokens(UsageTotals t) {
    return Saturating.add(t.getInputTokens(), t.getOutputTokens(), t.getCacheCreationInputTokens(),
        t.getCacheReadInputTokens());
  }

  /**
   * Adds one priced event to {@code totals} in place, without the per-model breakdown, and returns
   * it: for month totals, which limits and the current period read as a whole, so each event does
   * not decode and re-encode a map of every model the key used that month.
   */
  public static UsageTotals add(UsageTotals totals, PricedEvent priced) {
    UsageEvent e = priced.event();
    totals.setInputTokens(Saturating.add(totals.getInputTokens(), e.getInputTokens()));
    totals.setOutputTokens(Saturating.add(totals.getOutputTokens(), e.getOutputTokens()));
    totals.setCacheCreationInputTokens(
        Saturating.add(totals.getCacheCreationInputTokens(), e.getCacheCreationInputTokens()));
    totals.setCacheReadInputTokens(Saturating.add(totals.getCacheReadInputTokens(), e.getCacheReadInputTokens()));
    totals.setCostMicros(Saturating.add(totals.getCostMicros(), priced.costMicros()));
    totals.setRequests(Saturating.add(totals.getRequests(), 1));
    if (priced.fallbackPriced()) {
      totals.setFallbackPricedRequests(Saturating.add(totals.getFallbackPricedRequests(), 1));
    }
    totals.setLastEventTime(Math.max(totals.getLastEventTime(), e.getTimestamp()));
    return totals;
  }

  /**
   * Adds one priced event to {@code totals} in place, to the totals and its model's share, and
   * returns it. A bucket names at most {@code maxModels} models; the usage of any further model is
   * summed under {@link UsageLimits#OTHER_MODELS}, so a caller inventing model names cannot grow a stored
   * value without bound.
   */
  public static UsageTotals addWithModel(UsageTotals totals, PricedEvent priced, int maxModels) {
    add(totals, priced);
    UsageEvent e = priced.event();
    Map<String, ModelUsage> byModel = totals.getByModel();
    String name = byModel.containsKey(e.getModel()) || named(byModel) < maxModels ? e.getModel()
        : UsageLimits.OTHER_MODELS;
    ModelUsage model = byModel.computeIfAbsent(name, m -> new ModelUsage(0L, 0L, 0L, 0L, 0L, 0L, 0L));
    model.setInputTokens(Saturating.add(model.getInputTokens(), e.getInputTokens()));
    model.setOutputTokens(Saturating.add(model.getOutputTokens(), e.getOutputTokens()));
    model.setCacheCreationInputTokens(
        Saturating.add(model.getCacheCreationInputTokens(), e.getCacheCreationInputTokens()));
    model.setCacheReadInputTokens(Saturating.add(model.getCacheReadInputTokens(), e.getCacheReadInputTokens()));
    model.setCostMicros(Saturating.add(model.getCostMicros(), priced.costMicros()));
    model.setRequests(Saturating.add(model.getRequests(), 1));
    if (priced.fallbackPriced()) {
      model.setFallbackPricedRequests(Saturating.add(model.getFallbackPricedRequests(), 1));
    }
    return totals;
  }

  private static int named(Map<String, ModelUsage> byModel) {
    return byModel.size() - (byModel.containsKey(UsageLimits.OTHER_MODELS) ? 1 : 0);
  }
}
