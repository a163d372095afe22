package dev.metering.schemas;

/**
 * The bounds every usage event must respect, shared by every door usage comes in by (the HTTP
 * ingest, gateway-client, metering-stream's own validation): a value within them can be counted
 * and stored; one outside goes back to its sender or to the dead-letter topic.
 */
public final class UsageLimits {

  /** event_id, org_id, api_key_id, model, gateway_id and request_id: at most this many characters. */
  public static final int MAX_FIELD_LENGTH = 256;

  /** No single call carries more of one token kind; also keeps cost arithmetic within a long. */
  public static final long MAX_TOKENS_PER_KIND = 1_000_000_000L;

  /**
   * The model a bucket sums the usage of every model beyond its limit under; reserved (no event
   * may name it), so it never mixes with a real model's share.
   */
  public static final String OTHER_MODELS = "(other models)";

  /** Why an event may not name {@link #OTHER_MODELS}. */
  public static final String OTHER_MODELS_RESERVED = "model '" + OTHER_MODELS
      + "' is reserved for the usage of models beyond a bucket's limit";

  /**
   * Why {@code value} cannot be the string field {@code field} of a usage event (blank, longer than
   * {@link #MAX_FIELD_LENGTH}, holding a control or invisible character or malformed text, or the
   * reserved model), or null when it can: the doors usage comes in by refuse what metering-stream
   * would dead-letter, before they answer their caller.
   */
  public static String stringProblem(String field, String value) {
    if (value.isBlank() || value.length() > MAX_FIELD_LENGTH) {
      return field + " must be a non-empty string of at most " + MAX_FIELD_LENGTH + " characters";
    }
    BadCharacters bad = badIdentifierCharacters(value);
    if (bad != null) {
      return bad.problem(field);
    }
    if (field.equals("model") && value.equals(OTHER_MODELS)) {
      return OTHER_MODELS_RESERVED;
    }
    return null;
  }

  /** What may not be in a caller's text, however short. */
  public enum BadCharacters {
    /**
     * A control character (NUL, a line break, a terminal escape): no identifier or model name holds
     * one, and one that did would become a model or key of its own in every report and travel on
     * into tables, CSV files and logs.
     */
    CONTROL("must not hold control characters"),
    /**
     * An invisible format character (a zero-width space or joiner, a bidirectional override, a byte
     * order mark): refused in ids and model names only, where it makes a value that looks like
     * another and is not ("claude-opus-4-5" and the same with a zero-width space after it were two
     * models in every report, the second priced by the fallback), or reorders what a table shows.
     * Names may need some (a joiner inside an emoji).
     */
    INVISIBLE("must not hold invisible format characters (zero-width, bidirectional, byte order mark)"),
    /**
     * Text that is not well-formed Unicode: a lone UTF-16 surrogate, which Avro's UTF-8 encoding
     * writes as '?', or U+FFFD, which stands where bytes that were not UTF-8 were decoded. Either
     * way different values become one: event ids of a lone U+D800 or U+DBFF followed by "x" and
     * the id "?x" were one id, and two of three such events were dropped as duplicates.
     */
    MALFORMED("must be well-formed Unicode text (no lone surrogate, no U+FFFD for bytes that were not UTF-8)");

    private final String rule;

    BadCharacters(String rule) {
      this.rule = rule;
    }

    /** Why the field {@code field} holding such characters is refused. */
    public String problem(String field) {
      return field + " " + rule;
    }
  }

  /**
   * The first kind of character a caller's text (a name, a description) may not hold that
   * {@code value} holds (a control character or malformed text), or null when it holds none.
   */
  public static BadCharacters badCharacters(String value) {
    return firstBad(value, false);
  }

  /**
   * The same for an identifier or model name, which may not hold invisible format characters
   * either. One loop over the characters, not a stream: metering-stream checks every string field
   * of every event with it.
   */
  public static BadCharacters badIdentifierCharacters(String value) {
    return firstBad(value, true);
  }

  private static BadCharacters firstBad(String value, boolean identifier) {
    int length = value.length();
    for (int i = 0; i < length; i++) {
      char c = value.charAt(i);
      int codePoint = c;
      if (Character.isISOControl(c)) {
        return BadCharacters.CONTROL;
      }
      if (c == '\uFFFD' || Character.isLowSurrogate(c)) {
        return BadCharacters.MALFORMED;
      }
      if (Character.isHighSurrogate(c)) {
        if (i + 1 == length || !Character.isLowSurrogate(value.charAt(i + 1))) {
          return BadCharacters.MALFORMED;
        }
        codePoint = Character.toCodePoint(c, value.charAt(++i)); // a pair: one code point beyond the BMP
      }
      if (identifier && codePoint > 0x7F && Character.getType(codePoint) == Character.FORMAT) {
        return BadCharacters.INVISIBLE;
      }
    }
    return null;
  }

  /** Why {@code count} cannot be the token count {@code field} of one call, or null when it can. */
  public static String tokensProblem(String field, long count) {
    return count < 0 || count > MAX_TOKENS_PER_KIND
        ? field + " must be a whole number from 0 to " + MAX_TOKENS_PER_KIND : null;
  }

  /**
   * Alert rules one API key may have: admin-api refuses more, and metering-stream (which keeps a
   * key's rules in one stored value) evaluates no more than its METERING_MAX_RULES_PER_KEY, by default this.
   */
  public static final int MAX_ALERT_RULES_PER_KEY = 100;

  /** METERING_LATE_GRACE's default: how late an event may arrive and still be counted. */
  public static final java.time.Duration DEFAULT_LATE_GRACE = java.time.Duration.ofDays(3);

  /** METERING_FUTURE_TOLERANCE's default: how far ahead of the clock an event time may be. */
  public static final java.time.Duration DEFAULT_FUTURE_TOLERANCE = java.time.Duration.ofMinutes(5);

  /**
   * The most a key's max_tokens_per_month may be: a quadrillion tokens a month is far beyond any
   * key, and percent arithmetic on it (100 x limit) stays far within a long.
   */
  public static final long MAX_TOKENS_PER_MONTH = 1_000_000_000_000_000L / 1000;

  /**
   * The most a key's cost limit may be, in micro-dollars: a billion dollars a month; percent
   * arithmetic on it (100 x limit) stays far within a long.
   */
  public static final long MAX_COST_MICROS_PER_MONTH = 1_000_000_000L * 1_000_000L;

  /** Dates and times a query may name: epoch milliseconds of anything outside overflow nothing, but mean nothing. */
  public static final java.time.LocalDate EARLIEST_DATE = java.time.LocalDate.of(1970, 1, 1);
  public static final java.time.LocalDate LATEST_DATE = java.time.LocalDate.of(9999, 12, 31);

  /** Whether a date a query names lies between {@link #EARLIEST_DATE} and {@link #LATEST_DATE}. */
  public static boolean queryable(java.time.LocalDate date) {
    return !date.isBefore(EARLIEST_DATE) && !date.isAfter(LATEST_DATE);
  }

  private UsageLimits() {
  }
}
