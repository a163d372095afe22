package dev.metering.stream.query;

import dev.metering.api.query.UsageView;
import dev.metering.records.state.ModelUsage;
import dev.metering.records.state.UsageTotals;

/** The stores' totals as the query API shows them. */
final class UsageViews {

  private UsageViews() {
  }

  static UsageView of(UsageTotals t) {
    return UsageView.of(t.getInputTokens(), t.getOutputTokens(), t.getCacheCreationInputTokens(),
        t.getCacheReadInputTokens(), t.getRequests(), t.getCostMicros(), t.getFallbackPricedRequests());
  }

  static UsageView of(ModelUsage m) {
    return UsageView.of(m.getInputTokens(), m.getOutputTokens(), m.getCacheCreationInputTokens(),
        m.getCacheReadInputTokens(), m.getRequests(), m.getCostMicros(), m.getFallbackPricedRequests());
  }
}
