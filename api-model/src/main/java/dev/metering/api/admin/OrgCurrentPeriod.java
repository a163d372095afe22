package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.openapi.Nullable;
import dev.metering.api.query.Projection;
import dev.metering.api.query.UsageView;
import java.time.Instant;

/** The organisation's calendar month so far against its budget, and where it is heading. */
@JsonClassDescription("the organisation's calendar month (UTC) so far and its projected end")
public record OrgCurrentPeriod(
    String orgId,
    @JsonPropertyDescription("yyyy-MM") String period,
    UsageView usage,
    @Nullable @JsonPropertyDescription("the organisation's monthly token budget; null for none") Long limitTokens,
    @Nullable @JsonPropertyDescription("tokens used, as a percentage of limit_tokens") Double percentUsed,
    @Nullable @JsonPropertyDescription("the monthly cost budget in micro-dollars; null for none") Long limitCostMicros,
    @Nullable @JsonPropertyDescription("the same in dollars, a decimal string") String limitCost,
    @Nullable @JsonPropertyDescription("cost so far, as a percentage of limit_cost_micros") Double percentCostUsed,
    boolean hardLimit,
    @JsonPropertyDescription("true while a hard budget has suspended the organisation's keys") boolean suspended,
    @JsonPropertyDescription("the month's end at its daily rate so far") Projection projected,
    @Nullable @JsonPropertyDescription("the event time the numbers include; null before any usage") Instant asOf) {
}
