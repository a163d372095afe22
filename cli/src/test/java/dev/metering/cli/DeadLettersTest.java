package dev.metering.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.metering.schemas.UsageLimits;
import org.junit.jupiter.api.Test;

class DeadLettersTest {

  @Test
  void shouldGiveADeadLetterAnEventIdOfItsOwnThatUsageEventsTakes() {
    String longest = "e".repeat(UsageLimits.MAX_FIELD_LENGTH);

    String own = DeadLetters.ownEventId(2, 17, longest);

    assertEquals("dlq-2-17-req-1", DeadLetters.ownEventId(2, 17, "req-1"));
    assertEquals(UsageLimits.MAX_FIELD_LENGTH, own.length());
    assertEquals("dlq-2-17-" + longest.substring(0, UsageLimits.MAX_FIELD_LENGTH - 9), own);
    assertEquals(null, UsageLimits.stringProblem("event_id", own), "no dead letter again for its length");
  }

  @Test
  void shouldNeverCutACharacterInTwo() {
    // "dlq-2-17-" is 9 characters: the emoji's two halves would sit at 255 and 256
    String id = "x".repeat(UsageLimits.MAX_FIELD_LENGTH - 10) + "\uD83D\uDE00" + "tail";

    String own = DeadLetters.ownEventId(2, 17, id);

    assertEquals(UsageLimits.MAX_FIELD_LENGTH - 1, own.length());
    assertEquals(null, UsageLimits.stringProblem("event_id", own), "no lone surrogate: " + own.substring(240));
  }
}
