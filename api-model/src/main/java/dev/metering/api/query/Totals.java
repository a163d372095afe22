package dev.metering.api.query;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import dev.metering.api.openapi.Nullable;
import java.time.Instant;
import java.time.LocalDate;

/** An organisation's or a key's usage over a date range (both dates included). */
@JsonClassDescription("usage over the dates")
public record Totals(@Nullable String orgId, @Nullable String apiKeyId, LocalDate startDate, LocalDate endDate,
    UsageView usage, @Nullable Instant asOf, boolean stale) {
}
