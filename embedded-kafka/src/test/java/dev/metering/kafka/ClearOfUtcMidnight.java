package dev.metering.kafka;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Starts each test of a class clear of a UTC day's end: within {@link #MARGIN} of midnight, waits for it to pass.
 *
 * <p>Tests that meter live usage and then ask for "today" or "this month" compare two readings of the
 * wall clock, one by the test and one by the system (a usage day, a current period, a suspension's end).
 * Across midnight UTC the two name different days, and on the last day of a month different months,
 * so such a test could fail in a run that happened to straddle it. The margin covers
 * the longest of those tests; at worst a run waits that long once.
 */
public final class ClearOfUtcMidnight implements BeforeEachCallback {

  public static final Duration MARGIN = Duration.ofMinutes(2);

  @Override
  public void beforeEach(ExtensionContext context) throws InterruptedException {
    Instant now = Instant.now();
    Duration wait = waitFrom(now);
    if (wait.isZero()) {
      return;
    }
    Instant midnight = now.plus(wait);
    System.out.printf("%s starts after midnight UTC, %s away%n", context.getDisplayName(), wait);
    KafkaTestSupport.await("midnight UTC to pass", wait.plusSeconds(30), () -> !Instant.now().isBefore(midnight));
  }

  /** How long a test starting at {@code now} waits: until the next midnight UTC if it is within the margin, else none. */
  static Duration waitFrom(Instant now) {
    Instant midnight = LocalDate.ofInstant(now, ZoneOffset.UTC).plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    Duration left = Duration.between(now, midnight);
    return left.compareTo(MARGIN) < 0 ? left : Duration.ZERO;
  }
}
