package dev.metering.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ClearOfUtcMidnightTest {

  @Test
  void shouldWaitForMidnightUtcOnlyWithinTheMargin() {
    assertEquals(Duration.ofSeconds(90), ClearOfUtcMidnight.waitFrom(Instant.parse("2026-11-30T23:58:30Z")));
    assertEquals(Duration.ofMillis(1), ClearOfUtcMidnight.waitFrom(Instant.parse("2026-12-31T23:59:59.999Z")));
    assertEquals(Duration.ZERO, ClearOfUtcMidnight.waitFrom(Instant.parse("2026-11-30T23:58:00Z")));
    assertEquals(Duration.ZERO, ClearOfUtcMidnight.waitFrom(Instant.parse("2026-12-01T00:00:00Z")));
    assertEquals(Duration.ZERO, ClearOfUtcMidnight.waitFrom(Instant.parse("2026-12-01T12:00:00Z")));
  }
}
