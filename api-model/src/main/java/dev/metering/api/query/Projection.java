package dev.metering.api.query;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.Dollars;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;

/**
 * Where a calendar month's usage ends if it goes on at its daily rate so far: the month's use
 * divided by the days elapsed (at least one, so a month's first hours do not multiply a single
 * call by hundreds), times the month's days. Integer arithmetic, so the same inputs always give
 * the same projection.
 */
@JsonClassDescription("the month's usage projected to its end at the daily rate so far")
public record Projection(
    @JsonPropertyDescription("tokens by the end of the month") long totalTokens,
    @JsonPropertyDescription("estimated cost by the end of the month, in micro-dollars") long costMicros,
    @JsonPropertyDescription("the same in dollars, a decimal string") String estimatedCost) {

  private static final long DAY = 86_400_000L;

  /** The projection of {@code tokens} and {@code costMicros} used in {@code period} up to {@code asOf}. */
  public static Projection monthEnd(YearMonth period, long tokens, long costMicros, Instant asOf) {
    long start = period.atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
    long length = period.lengthOfMonth() * DAY;
    long elapsed = Math.min(length, Math.max(DAY, asOf.toEpochMilli() - start));
    long projectedCost = scale(costMicros, length, elapsed);
    return new Projection(scale(tokens, length, elapsed), projectedCost, Dollars.format(projectedCost));
  }

  private static long scale(long used, long length, long elapsed) {
    return java.math.BigInteger.valueOf(used).multiply(java.math.BigInteger.valueOf(length))
        .divide(java.math.BigInteger.valueOf(elapsed)).longValueExact();
  }
}
