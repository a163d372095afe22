package dev.metering.stream.query;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;

/** The JSON bodies of the query API (snake_case on the wire). */
public final class Views {

  private Views() {
  }

  /**
   * How fresh an answer is: the stream time (highest event time processed) of the partitions
   * it was read from, and whether any of them was read from a standby or restoring copy.
   */
  public record Freshness(Instant asOf, boolean stale) {
    static Freshness min(Freshness a, Freshness b) {
      Instant asOf = a.asOf == null ? b.asOf : b.asOf == null ? a.asOf : a.asOf.isBefore(b.asOf) ? a.asOf : b.asOf;
      return new Freshness(asOf, a.stale || b.stale);
    }
  }

  public record CurrentPeriod(String apiKeyId, String orgId, String period, UsageView usage, Long limitTokens,
      Double percentUsed, boolean hardLimit, boolean breached, String status, Instant asOf, boolean stale) {
  }

  /** One group's usage in a bucket; api_key_id or model is present when grouped by it. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record Result(String apiKeyId, String model, UsageView usage) {
  }

  public record Bucket(Instant startingAt, Instant endingAt, List<Result> results) {
  }

  public record Report(List<Bucket> data, boolean hasMore, String nextPage, Instant asOf, boolean stale) {
  }

  /**
   * A {@link Report} whose buckets are each a {@link Bucket} or its JSON already rendered (a
   * {@code RawValue}, from {@link ClosedBuckets}): the same JSON as the report.
   */
  public record RenderedReport(List<Object> data, boolean hasMore, String nextPage, Instant asOf, boolean stale) {
  }

  public record Totals(String orgId, String apiKeyId, LocalDate startDate, LocalDate endDate, UsageView usage,
      Instant asOf, boolean stale) {
  }

  public record KeyTotals(String apiKeyId, UsageView usage) {
  }

  public record ByKey(String orgId, LocalDate startDate, LocalDate endDate, List<KeyTotals> data, Instant asOf,
      boolean stale) {
  }

  public record Error(ErrorBody error) {
    public static Error of(String type, String message, String field) {
      return new Error(new ErrorBody(type, message, field));
    }
  }

  /** The same shape as admin-api's errors: {@code field} names the bad parameter. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public record ErrorBody(String type, String message, String field) {
  }
}
