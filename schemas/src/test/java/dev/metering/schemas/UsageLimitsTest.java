package dev.metering.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.metering.schemas.UsageLimits.BadCharacters;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class UsageLimitsTest {

  @Test
  void shouldTakeTextOfAnyScriptWithItsPairedSurrogates() {
    assertNull(UsageLimits.badCharacters("claude-sonnet-4-5"));
    assertNull(UsageLimits.badCharacters("ключ 語 é \u202e"));
    assertNull(UsageLimits.badCharacters("\uD83D\uDE00"), "a pair alone");
    assertNull(UsageLimits.badCharacters("a\uD83D\uDE00\uDBFF\uDFFFb"), "pairs next to each other");
    assertNull(UsageLimits.badCharacters(""));
  }

  @Test
  void shouldFindLoneSurrogatesWhereverTheyStand() {
    assertEquals(BadCharacters.MALFORMED, UsageLimits.badCharacters("\uD800"), "a high surrogate alone");
    assertEquals(BadCharacters.MALFORMED, UsageLimits.badCharacters("x\uD800"), "a high surrogate at the end");
    assertEquals(BadCharacters.MALFORMED, UsageLimits.badCharacters("\uD800x"), "a high surrogate before a letter");
    assertEquals(BadCharacters.MALFORMED, UsageLimits.badCharacters("\uD800\uD800\uDC00"), "two highs, one low");
    assertEquals(BadCharacters.MALFORMED, UsageLimits.badCharacters("\uDC00x"), "a low surrogate first");
    assertEquals(BadCharacters.MALFORMED, UsageLimits.badCharacters("\uD83D\uDE00\uDE00"), "a low after a pair");
  }

  @Test
  void shouldFindTheMarkOfBytesThatWereNotUtf8() {
    String decoded = new String(new byte[] {'x', (byte) 0xFF}, StandardCharsets.UTF_8);

    assertEquals(BadCharacters.MALFORMED, UsageLimits.badCharacters(decoded));
    assertEquals("event_id must be well-formed Unicode text (no lone surrogate, no U+FFFD for bytes that were not UTF-8)",
        UsageLimits.stringProblem("event_id", decoded));
  }

  @Test
  void shouldRefuseInvisibleFormatCharactersInIdentifiersButNotInNames() {
    for (String invisible : new String[] {"claude-opus-4-5\u200B", "\uFEFFkey-1", "key\u202E1-yek", "org\u2066x",
        "m\u00ADodel", "tag\uDB40\uDC41"}) {
      assertEquals(BadCharacters.INVISIBLE, UsageLimits.badIdentifierCharacters(invisible), invisible);
      assertNull(UsageLimits.badCharacters(invisible), "a name may hold it: " + invisible);
    }
    assertEquals("model must not hold invisible format characters (zero-width, bidirectional, byte order mark)",
        UsageLimits.stringProblem("model", "claude-opus-4-5\u200B"));
    assertNull(UsageLimits.badIdentifierCharacters("claude-sonnet-4-5 ключ 語 \uD83D\uDE00"));
    assertNull(UsageLimits.badCharacters("family \uD83D\uDC68\u200D\uD83D\uDC67"), "a joiner inside an emoji, in a name");
  }

  @Test
  void shouldNameTheFirstKindOfBadCharacterFound() {
    assertEquals(BadCharacters.CONTROL, UsageLimits.badCharacters("a\u0000\uD800"));
    assertEquals(BadCharacters.MALFORMED, UsageLimits.badCharacters("\uD800\u0000"));
    assertEquals("model must not hold control characters", UsageLimits.stringProblem("model", "m\u001b[2J"));
  }

  @Test
  void shouldWriteALoneSurrogateAsAQuestionMarkWhichIsWhyItIsRefused() {
    // the premise of refusing it: distinct ids become one once encoded
    assertEquals("x?", new String("x\uD800".getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
  }
}
