package dev.metering.api.query;

import java.time.Instant;
import java.util.List;

/** One hour or day of a report. */
public record ReportBucket(Instant startingAt, Instant endingAt, List<ReportResult> results) {
}
