package dev.metering.api.query;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.time.YearMonth;
import org.junit.jupiter.api.Test;

class ProjectionTest {

  private static final YearMonth NOVEMBER = YearMonth.of(2026, 11);

  @Test
  void shouldProjectTheMonthAtItsDailyRateSoFar() {
    // 9 of 30 days gone: 900 tokens and $0.90 end the month at 3,000 tokens and $3.00
    Projection projected = Projection.monthEnd(NOVEMBER, 900, 900_000, Instant.parse("2026-11-10T00:00:00Z"));
    assertEquals(3_000, projected.totalTokens());
    assertEquals(3_000_000, projected.costMicros());
    assertEquals("3.00", projected.estimatedCost());
  }

  @Test
  void shouldCountAtLeastADaySoTheFirstHoursDoNotExplode() {
    Projection projected = Projection.monthEnd(NOVEMBER, 100, 7, Instant.parse("2026-11-01T02:00:00Z"));
    assertEquals(3_000, projected.totalTokens(), "the first day's use times 30 days");
    assertEquals(210, projected.costMicros());
  }

  @Test
  void shouldBeTheUseItselfOnceTheMonthIsOver() {
    Projection projected = Projection.monthEnd(NOVEMBER, 12_345, 6_789, Instant.parse("2026-12-03T00:00:00Z"));
    assertEquals(12_345, projected.totalTokens());
    assertEquals(6_789, projected.costMicros());
  }
}
