package dev.metering.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.metering.schemas.UsageLimits;
import org.junit.jupiter.api.Test;

/**
 * A gateway learns at once that a call's usage could not be counted: metering-stream would
 * dead-letter it, and the call would be served without ever counting against its key's limits.
 */
class UsageReporterCallTest {

  @Test
  void shouldRefuseACallMeteringWouldDeadLetterNamingWhy() {
    assertEquals("model must be a non-empty string of at most 256 characters", refused("m".repeat(257), 10));
    assertEquals("model must be a non-empty string of at most 256 characters", refused(" ", 10));
    assertEquals("model '(other models)' is reserved for the usage of models beyond a bucket's limit",
        refused(UsageLimits.OTHER_MODELS, 10));
    assertEquals("model must not hold control characters", refused("claude\u0000", 10));
    assertEquals("model must not hold invisible format characters (zero-width, bidirectional, byte order mark)",
        refused("claude-sonnet-4-5\u200B", 10));
    // Avro would write the lone surrogate as '?': "claude?" and "claude" + U+DBFF would be one model
    assertEquals("model must be well-formed Unicode text (no lone surrogate, no U+FFFD for bytes that were not UTF-8)",
        refused("claude\uD800", 10));
    assertEquals("model must be well-formed Unicode text (no lone surrogate, no U+FFFD for bytes that were not UTF-8)",
        refused("claude\uDC00-\uD83D", 10));
    assertEquals("input_tokens must be a whole number from 0 to 1000000000", refused("claude-sonnet-4-5", -1));
    assertEquals("input_tokens must be a whole number from 0 to 1000000000",
        refused("claude-sonnet-4-5", UsageLimits.MAX_TOKENS_PER_KIND + 1));
  }

  @Test
  void shouldTakeACallAtTheBounds() {
    UsageReporter.Call call = new UsageReporter.Call("org-1", "key-1", "m".repeat(256), UsageLimits.MAX_TOKENS_PER_KIND,
        0, 0, 0, null);

    assertEquals(256, call.model().length());
    assertEquals("claude-\uD83D\uDE00", new UsageReporter.Call("org-1", "key-1", "claude-\uD83D\uDE00", 1, 0, 0, 0,
        null).model(), "a surrogate pair is one character");
  }

  private static String refused(String model, long inputTokens) {
    return assertThrows(IllegalArgumentException.class,
        () -> new UsageReporter.Call("org-1", "key-1", model, inputTokens, 1, 0, 0, "req-1")).getMessage();
  }
}
