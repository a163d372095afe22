package dev.metering.stream.pricing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.schemas.UsageLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PriceBookTest {

  private final PriceBook bundled = PriceBook.bundled();

  @Test
  void shouldPriceByTheEntryInForceOnTheEventsDay() {
    long before = Instant.parse("2024-11-30T23:59:59Z").toEpochMilli();
    long after = Instant.parse("2024-12-01T00:00:00Z").toEpochMilli();

    assertEquals(1_000_000, bundled.quote("claude-3-5-haiku", before).prices().input());
    assertEquals(800_000, bundled.quote("claude-3-5-haiku", after).prices().input());
  }

  @Test
  void shouldMatchTheLongestListedModelIdFollowedByADash() {
    long now = Instant.parse("2026-11-10T00:00:00Z").toEpochMilli();

    assertEquals(5_000_000, bundled.quote("claude-opus-4-5-20251101", now).prices().input());
    assertEquals(15_000_000, bundled.quote("claude-opus-4-20250514", now).prices().input());
    assertTrue(bundled.quote("claude-opus-40", now).fallback(), "a prefix must end at a dash");
    assertFalse(bundled.quote("claude-sonnet-4", now).fallback());
  }

  @Test
  void shouldComputeIntegerMicroDollarsRoundingHalfUpOncePerCall() {
    TokenPrices sonnet = bundled.quote("claude-sonnet-4", 0).prices();

    assertEquals(3, sonnet.costMicros(1, 0, 0, 0), "one input token is exactly $3 per million");
    assertEquals(0, sonnet.costMicros(0, 0, 0, 1), "0.3 micro-dollars rounds down");
    assertEquals(1, sonnet.costMicros(0, 0, 0, 2), "0.6 micro-dollars rounds up");
    assertEquals(2, sonnet.costMicros(0, 0, 0, 5), "1.5 rounds half up");
    long max = UsageLimits.MAX_TOKENS_PER_KIND;
    assertEquals(max * 3 + max * 15 + max * 375 / 100 + max * 3 / 10, sonnet.costMicros(max, max, max, max));
  }

  @Test
  void shouldLoadAFileAndNameWhatIsWrongWithABadOne(@TempDir Path dir) throws IOException {
    Path good = dir.resolve("good.json");
    Files.writeString(good, """
        {"fallback": {"input": "1", "output": "2", "cache_creation": "3", "cache_read": "0.000001"},
         "models": {"m": [{"effective_from": "2026-01-01", "input": "9", "output": "9", "cache_creation": "9", "cache_read": "9"}]}}
        """);
    Path tooPrecise = dir.resolve("precise.json");
    Files.writeString(tooPrecise, """
        {"fallback": {"input": "0.0000001", "output": "2", "cache_creation": "3", "cache_read": "4"}, "models": {}}
        """);
    Path missing = dir.resolve("missing.json");
    Files.writeString(missing, """
        {"models": {}}
        """);

    PriceBook book = PriceBook.load(good);

    assertEquals(9_000_000, book.quote("m", Instant.parse("2026-06-01T00:00:00Z").toEpochMilli()).prices().output());
    assertEquals(1, book.quote("x", 0).prices().cacheRead());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> PriceBook.load(tooPrecise)).getMessage()
        .contains("at most 6 decimals"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> PriceBook.load(missing)).getMessage()
        .contains("missing field fallback"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> PriceBook.load(dir.resolve("nope.json"))).getMessage()
        .contains("cannot read pricing file"));
  }
}
