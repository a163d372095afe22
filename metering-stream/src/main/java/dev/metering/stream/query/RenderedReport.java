package dev.metering.stream.query;

import dev.metering.api.query.UsageReport;
import java.time.Instant;
import java.util.List;

/**
 * A {@link UsageReport} whose buckets' results may be already rendered: each bucket's are a list of
 * {@link dev.metering.api.query.ReportResult}s or a Jackson {@code RawValue} of such a list's JSON.
 * It serialises to the same JSON as the report it stands for, component for component.
 */
record RenderedReport(List<Bucket> data, boolean hasMore, String nextPage, Instant asOf, boolean stale) {

  /** A {@link dev.metering.api.query.ReportBucket} with such results. */
  record Bucket(Instant startingAt, Instant endingAt, Object results) {
  }
}
