package dev.metering.stream.pricing;

/**
 * Prices of the four token kinds in integer micro-dollars per million tokens
 * ($3.00 per million = 3_000_000).
 */
public record TokenPrices(long input, long output, long cacheCreation, long cacheRead) {

  /** The largest price accepted, $1000 per million tokens, keeps every per-event product within a long. */
  static final long MAX_MICROS_PER_MILLION = 1_000_000_000L;

  public TokenPrices {
    check("input", input);
    check("output", output);
    check("cache_creation", cacheCreation);
    check("cache_read", cacheRead);
  }

  /**
   * Cost of one call in micro-dollars, rounded half up once per call. Token counts are at most
   * {@link dev.metering.schemas.UsageLimits#MAX_TOKENS_PER_KIND}, so nothing overflows.
   */
  public long costMicros(long inputTokens, long outputTokens, long cacheCreationTokens, long cacheReadTokens) {
    long microsTimesMillion = inputTokens * input + outputTokens * output
        + cacheCreationTokens * cacheCreation + cacheReadTokens * cacheRead;
    return (microsTimesMillion + 500_000) / 1_000_000;
  }

  private static void check(String kind, long price) {
    if (price < 0 || price > MAX_MICROS_PER_MILLION) {
      throw new IllegalArgumentException(kind + " price must be from 0 to $1000 per million tokens, got "
          + price + " micro-dollars");
    }
  }
}
