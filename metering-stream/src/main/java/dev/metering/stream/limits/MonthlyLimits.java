package dev.metering.stream.limits;

import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.LimitScope;
import dev.metering.records.OrgBudget;

/**
 * One scope's monthly limits as the evaluator judges them: an API key's limits or its
 * organisation's budget. A limit is null where the scope has none.
 *
 * @param apiKeyId the key, or null for the organisation's budget
 */
public record MonthlyLimits(LimitScope scope, String orgId, String apiKeyId, Long maxTokens, Long maxCostMicros,
    boolean hardLimit) {

  /** The key's limits; null for a key not seen or revoked, whose month is no longer judged. */
  public static MonthlyLimits of(String apiKeyId, ApiKey key) {
    if (key == null || key.getStatus() == ApiKeyStatus.REVOKED) {
      return null;
    }
    return new MonthlyLimits(LimitScope.KEY, key.getOrgId(), apiKeyId, key.getMaxTokensPerMonth(),
        key.getMaxCostMicrosPerMonth(), key.getHardLimit());
  }

  /** The organisation's budget; null when it never had one (a removed budget has both limits null). */
  public static MonthlyLimits of(OrgBudget budget) {
    if (budget == null) {
      return null;
    }
    return new MonthlyLimits(LimitScope.ORG, budget.getOrgId(), null, budget.getMaxTokensPerMonth(),
        budget.getMaxCostMicrosPerMonth(), budget.getHardLimit());
  }
}
