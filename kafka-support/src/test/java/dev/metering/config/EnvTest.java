package dev.metering.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EnvTest {

  @Test
  void shouldUseDefaultsForMissingOrBlankVariables() {
    Env env = new Env(Map.of("BLANK", "  "));

    assertEquals("dflt", env.string("MISSING", "dflt"));
    assertEquals("dflt", env.string("BLANK", "dflt"));
    assertEquals(7, env.intInRange("MISSING", 7, 1, 10));
    assertEquals(Duration.ofDays(3), env.duration("MISSING", Duration.ofDays(3), Duration.ZERO));
    assertTrue(env.bool("MISSING", true));
  }

  @Test
  void shouldParseDurationsWithUnitsAndIso8601() {
    Env env = new Env(Map.of("A", "500ms", "B", "30s", "C", "5m", "D", "2h", "E", "3d", "F", "PT90S"));

    assertEquals(Duration.ofMillis(500), env.duration("A", Duration.ZERO, Duration.ZERO));
    assertEquals(Duration.ofSeconds(30), env.duration("B", Duration.ZERO, Duration.ZERO));
    assertEquals(Duration.ofMinutes(5), env.duration("C", Duration.ZERO, Duration.ZERO));
    assertEquals(Duration.ofHours(2), env.duration("D", Duration.ZERO, Duration.ZERO));
    assertEquals(Duration.ofDays(3), env.duration("E", Duration.ZERO, Duration.ZERO));
    assertEquals(Duration.ofSeconds(90), env.duration("F", Duration.ZERO, Duration.ZERO));
  }

  @Test
  void shouldNameTheVariableWhenAValueIsInvalid() {
    Env env = new Env(Map.of("PARTS", "six", "LOW", "0", "WHEN", "soon", "FLAG", "maybe", "F", "-1"));

    assertEquals("PARTS", assertThrows(InvalidConfigException.class, () -> env.intInRange("PARTS", 1, 1, 10)).variable());
    InvalidConfigException low = assertThrows(InvalidConfigException.class, () -> env.intInRange("LOW", 1, 1, 10));
    assertTrue(low.getMessage().contains("LOW") && low.getMessage().contains("from 1 to 10"), low.getMessage());
    assertEquals("WHEN", assertThrows(InvalidConfigException.class,
        () -> env.duration("WHEN", Duration.ZERO, Duration.ZERO)).variable());
    assertEquals("FLAG", assertThrows(InvalidConfigException.class, () -> env.bool("FLAG", false)).variable());
    assertEquals("F", assertThrows(InvalidConfigException.class, () -> env.doubleAtLeast("F", 3, 1)).variable());
    assertFalse(new Env(Map.of("X", "no")).bool("X", true));
  }

  @Test
  void shouldRefuseADurationAboveItsMaximumAndNameTheRange() {
    Env env = new Env(Map.of("LONG", "6m", "OK", "5m"));

    InvalidConfigException tooLong = assertThrows(InvalidConfigException.class,
        () -> env.durationInRange("LONG", Duration.ZERO, Duration.ofMillis(10), Duration.ofMinutes(5)));
    assertEquals("LONG", tooLong.variable());
    assertTrue(tooLong.getMessage().contains("from 10 ms to 5 minutes"), tooLong.getMessage());
    assertEquals(Duration.ofMinutes(5), env.durationInRange("OK", Duration.ZERO, Duration.ZERO, Duration.ofMinutes(5)));
  }
}
