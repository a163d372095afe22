package dev.metering.api.query;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import dev.metering.api.openapi.Nullable;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;

/** An organisation's usage per key over a date range (both dates included). */
@JsonClassDescription("usage per key over the dates")
public record TotalsByKey(String orgId, LocalDate startDate, LocalDate endDate, List<KeyTotals> data,
    @Nullable Instant asOf, boolean stale) {
}
