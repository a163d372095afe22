package dev.metering.schemas;

import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.function.BiFunction;

/**
 * The dates and times a query names, parsed one way for both HTTP APIs: {@code yyyy-MM-dd} dates
 * and RFC 3339 times between {@link UsageLimits#EARLIEST_DATE} and {@link UsageLimits#LATEST_DATE}
 * (epoch milliseconds of anything outside would overflow or mean nothing). A bad value becomes
 * the caller's own "invalid parameter" error, made by {@code invalid(field, message)}.
 */
public final class QueryTimes {

  private QueryTimes() {
  }

  /** A required date. */
  public static LocalDate date(String field, String value, BiFunction<String, String, RuntimeException> invalid) {
    if (value == null || value.isBlank()) {
      throw invalid.apply(field, field + " is required (yyyy-MM-dd)");
    }
    LocalDate parsed;
    try {
      parsed = LocalDate.parse(value);
    } catch (DateTimeParseException e) {
      throw invalid.apply(field, field + " must be a date yyyy-MM-dd, got '" + shown(value) + "'");
    }
    return inRange(field, parsed, invalid);
  }

  /** An optional time; null when absent. */
  public static Instant instant(String field, String value, BiFunction<String, String, RuntimeException> invalid) {
    if (value == null || value.isBlank()) {
      return null;
    }
    Instant parsed;
    try {
      parsed = OffsetDateTime.parse(value).toInstant();
    } catch (DateTimeParseException e) {
      throw invalid.apply(field, field + " must be an RFC 3339 time such as 2026-11-01T00:00:00Z, got '" + shown(value)
          + "'");
    }
    inRange(field, LocalDate.ofInstant(parsed, ZoneOffset.UTC), invalid);
    return parsed;
  }

  private static LocalDate inRange(String field, LocalDate date, BiFunction<String, String, RuntimeException> invalid) {
    if (!UsageLimits.queryable(date)) {
      throw invalid.apply(field, field + " must lie between " + UsageLimits.EARLIEST_DATE + " and "
          + UsageLimits.LATEST_DATE);
    }
    return date;
  }

  /** At most 64 characters of a value quoted back, like the dead-letter reasons. */
  private static String shown(String value) {
    return value.length() <= 64 ? value : value.substring(0, 64) + "...";
  }
}
