package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.openapi.Nullable;
import dev.metering.api.query.UsageView;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;

/** The organisation's tokens and estimated cost over a date range (both dates included). */
@JsonClassDescription("the organisation's usage over the dates")
public record UsageSummary(
    LocalDate startDate,
    LocalDate endDate,
    long totalInputTokens,
    long totalOutputTokens,
    long totalCacheCreationInputTokens,
    long totalCacheReadInputTokens,
    long totalTokens,
    long requests,
    @JsonPropertyDescription("dollars, exact to the micro-dollar") BigDecimal estimatedCost,
    @JsonPropertyDescription("the cost in integer micro-dollars") long costMicros,
    @Nullable @JsonPropertyDescription("the event time the numbers include; null before any usage") Instant asOf) {

  /** The query API's usage under the article's names. */
  public static UsageSummary of(LocalDate startDate, LocalDate endDate, UsageView u, Instant asOf) {
    return new UsageSummary(startDate, endDate, u.inputTokens(), u.outputTokens(), u.cacheCreationInputTokens(),
        u.cacheReadInputTokens(), u.totalTokens(), u.requests(), u.estimatedCost(), u.costMicros(), asOf);
  }
}
