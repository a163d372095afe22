package dev.metering.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {

  @Test
  void shouldSayADurationInItsLargestWholeUnitNotInIso8601() {
    assertEquals("72 hours", Durations.inWords(Duration.ofDays(3)));
    assertEquals("1 hour", Durations.inWords(Duration.ofHours(1)));
    assertEquals("90 minutes", Durations.inWords(Duration.ofMinutes(90)));
    assertEquals("5 minutes", Durations.inWords(Duration.ofMinutes(5)));
    assertEquals("45 seconds", Durations.inWords(Duration.ofSeconds(45)));
    assertEquals("1500 ms", Durations.inWords(Duration.ofMillis(1500)));
    assertEquals("0 hours", Durations.inWords(Duration.ZERO));
  }
}
