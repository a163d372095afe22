package dev.metering.stream.query;

import java.time.Instant;
import java.util.List;

/**
 * A {@link dev.metering.api.query.UsageReport} whose buckets are each a
 * {@link dev.metering.api.query.ReportBucket} or its JSON already rendered (a {@code RawValue},
 * from {@link ClosedBuckets}): the same JSON as the report.
 */
public record RenderedReport(List<Object> data, boolean hasMore, String nextPage, Instant asOf, boolean stale) {
}
