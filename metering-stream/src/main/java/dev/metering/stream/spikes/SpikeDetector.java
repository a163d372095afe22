package dev.metering.stream.spikes;

import dev.metering.records.UsageSpike;
import dev.metering.records.state.UsageTotals;
import dev.metering.stream.usage.Periods;
import dev.metering.stream.usage.Totals;
import dev.metering.stream.usage.UsageBuckets;
import java.util.Optional;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Finds the first moment in day D when a scope's total exceeds factor x its total on D - 7 days
 * (the same weekday a week before), given that baseline is at least the configured minimum and
 * above zero. It fires once per scope and day: the day is remembered in a window store.
 */
public final class SpikeDetector {

  private static final long WEEK_MILLIS = 7 * Periods.DAY_MILLIS;

  private final UsageBuckets buckets;
  private final WindowStore<String, Long> fired;
  private final SpikeSettings settings;

  public SpikeDetector(UsageBuckets buckets, WindowStore<String, Long> fired, SpikeSettings settings) {
    this.buckets = buckets;
    this.fired = fired;
    this.settings = settings;
  }

  /**
   * @param id the scope's id in the stores (an API key id or an org id)
   * @param apiKeyId null for an org-wide spike
   * @param dayStart start of the day just updated
   * @param day that day's totals after the update
   * @param detectedAt event time of the update
   */
  public Optional<UsageSpike> check(String id, String orgId, String apiKeyId, long dayStart, UsageTotals day,
      long detectedAt) {
    UsageTotals baseline = buckets.day(id, dayStart - WEEK_MILLIS);
    if (baseline == null) {
      return Optional.empty();
    }
    long baselineTokens = Totals.totalTokens(baseline);
    long tokens = Totals.totalTokens(day);
    if (baselineTokens == 0 || baselineTokens < settings.minBaselineTokens()
        || tokens <= settings.factor() * baselineTokens) {
      return Optional.empty();
    }
    if (fired.fetch(id, dayStart) != null) {
      return Optional.empty();
    }
    fired.put(id, detectedAt, dayStart);
    return Optional.of(UsageSpike.newBuilder()
        .setOrgId(orgId)
        .setApiKeyId(apiKeyId)
        .setDay(Periods.day(dayStart))
        .setTokens(tokens)
        .setBaselineDay(Periods.day(dayStart - WEEK_MILLIS))
        .setBaselineTokens(baselineTokens)
        .setRatio((double) tokens / baselineTokens)
        .setDetectedAt(detectedAt)
        .build());
  }
}
