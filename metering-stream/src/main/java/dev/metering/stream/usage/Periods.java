package dev.metering.stream.usage;

import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;

/** UTC bucket boundaries: hour, day and calendar month. */
public final class Periods {

  public static final long HOUR_MILLIS = 3_600_000L;
  public static final long DAY_MILLIS = 86_400_000L;

  private Periods() {
  }

  public static long hourStart(long millis) {
    return Math.floorDiv(millis, HOUR_MILLIS) * HOUR_MILLIS;
  }

  public static long dayStart(long millis) {
    return Math.floorDiv(millis, DAY_MILLIS) * DAY_MILLIS;
  }

  /** yyyy-MM of the UTC month holding {@code millis}. */
  public static String month(long millis) {
    return YearMonth.from(Instant.ofEpochMilli(millis).atOffset(ZoneOffset.UTC)).toString();
  }

  /** yyyy-MM-dd of the UTC day starting at or holding {@code millis}. */
  public static String day(long millis) {
    return LocalDate.ofEpochDay(Math.floorDiv(millis, DAY_MILLIS)).toString();
  }

  /** Start of the UTC month after the one holding {@code millis}. */
  public static long nextMonthStart(long millis) {
    return YearMonth.from(Instant.ofEpochMilli(millis).atOffset(ZoneOffset.UTC)).plusMonths(1)
        .atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
  }
}
