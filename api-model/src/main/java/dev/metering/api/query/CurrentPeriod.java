package dev.metering.api.query;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.openapi.Nullable;
import java.time.Instant;

/** A key's calendar month so far against its limits, in tokens and in dollars, and where it is heading. */
@JsonClassDescription("the key's calendar month (UTC) so far against its limit")
public record CurrentPeriod(
    String apiKeyId,
    @Nullable String orgId,
    @JsonPropertyDescription("yyyy-MM") String period,
    UsageView usage,
    @Nullable Long limitTokens,
    @Nullable @JsonPropertyDescription("tokens used, as a percentage of limit_tokens") Double percentUsed,
    @Nullable @JsonPropertyDescription("the monthly cost limit in micro-dollars; null for none") Long limitCostMicros,
    @Nullable @JsonPropertyDescription("the same in dollars, a decimal string") String limitCost,
    @Nullable @JsonPropertyDescription("cost so far, as a percentage of limit_cost_micros") Double percentCostUsed,
    @JsonPropertyDescription("the month's end at its daily rate so far") Projection projected,
    boolean hardLimit,
    boolean breached,
    String status,
    @Nullable Instant asOf,
    @JsonPropertyDescription("true when read from a standby or restoring copy") boolean stale) {
}
