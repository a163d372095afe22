package dev.metering.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.time.LocalDate;
import org.junit.jupiter.api.Test;

class QueryTimesTest {

  /** What a caller's "invalid parameter" error carries. */
  static final class Invalid extends RuntimeException {
    final String field;

    Invalid(String field, String message) {
      super(message);
      this.field = field;
    }
  }

  @Test
  void shouldParseDatesAndTimesWithinTheQueryableRange() {
    assertEquals(LocalDate.parse("2026-11-01"), QueryTimes.date("start_date", "2026-11-01", Invalid::new));
    assertEquals(Instant.parse("2026-11-01T00:00:00Z"),
        QueryTimes.instant("starting_at", "2026-11-01T01:00:00+01:00", Invalid::new));
    assertNull(QueryTimes.instant("created_before", " ", Invalid::new), "an optional time may be absent");
  }

  @Test
  void shouldNameTheFieldOfEveryBadValueInsteadOfOverflowing() {
    // issue 14: a start_date of year 300000000 overflowed epoch milliseconds and answered 500
    Invalid far = assertThrows(Invalid.class, () -> QueryTimes.date("start_date", "+300000000-01-01", Invalid::new));
    Invalid early = assertThrows(Invalid.class, () -> QueryTimes.instant("starting_at", "1969-12-31T23:59:59Z",
        Invalid::new));
    Invalid garbage = assertThrows(Invalid.class, () -> QueryTimes.date("end_date", "x".repeat(1000), Invalid::new));
    Invalid missing = assertThrows(Invalid.class, () -> QueryTimes.date("end_date", null, Invalid::new));

    assertEquals("start_date", far.field);
    assertTrue(far.getMessage().contains("between 1970-01-01 and 9999-12-31"), far.getMessage());
    assertEquals("starting_at", early.field);
    assertEquals("end_date", garbage.field);
    assertTrue(garbage.getMessage().length() < 200, "a long value is not echoed whole");
    assertTrue(missing.getMessage().contains("required"));
  }
}
