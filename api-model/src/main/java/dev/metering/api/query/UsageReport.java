package dev.metering.api.query;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.openapi.Nullable;
import java.time.Instant;
import java.util.List;

/** Usage in 1h or 1d buckets, oldest first, paged by bucket. */
@JsonClassDescription("usage in buckets, oldest first")
public record UsageReport(
    List<ReportBucket> data,
    boolean hasMore,
    @Nullable @JsonPropertyDescription("pass as page for the next page") String nextPage,
    @Nullable Instant asOf,
    boolean stale) {
}
