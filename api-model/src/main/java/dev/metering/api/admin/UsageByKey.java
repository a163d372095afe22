package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import dev.metering.api.openapi.Nullable;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;

/** Usage per key over a date range (both dates included). */
@JsonClassDescription("the organisation's usage per key over the dates")
public record UsageByKey(LocalDate startDate, LocalDate endDate, List<KeyUsage> data, @Nullable Instant asOf) {
}
