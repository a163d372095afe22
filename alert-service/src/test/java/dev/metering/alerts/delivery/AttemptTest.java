package dev.metering.alerts.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class AttemptTest {

  @Test
  void shouldCutADetailFromOutsideToItsBoundSayingHowMuchWasLeftOut() {
    String reply = "550 " + "x".repeat(10_000);
    for (Attempt attempt : new Attempt[] {new Attempt.Delivered(reply), new Attempt.Retry(reply, Optional.empty()),
        new Attempt.Failed(reply)}) {
      assertEquals(reply.substring(0, Attempt.MAX_DETAIL) + "... (9504 more characters)", attempt.detail());
    }
  }

  @Test
  void shouldKeepAShortDetailAsItIs() {
    assertEquals("HTTP 204", new Attempt.Delivered("HTTP 204").detail());
    assertEquals("x".repeat(Attempt.MAX_DETAIL), new Attempt.Failed("x".repeat(Attempt.MAX_DETAIL)).detail());
  }

  @Test
  void shouldNotCutACharacterOutsideTheBasicPlaneInHalf() {
    String detail = "x".repeat(Attempt.MAX_DETAIL - 1) + "\uD83D\uDE00" + "tail";
    assertEquals("x".repeat(Attempt.MAX_DETAIL - 1) + "... (6 more characters)", new Attempt.Failed(detail).detail());
  }
}
