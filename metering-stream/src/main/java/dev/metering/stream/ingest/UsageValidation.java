package dev.metering.stream.ingest;

import dev.metering.api.Text;
import dev.metering.config.Durations;
import dev.metering.kafka.KeyPartitions;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.UsageLimits;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * The checks a usage event must pass to be counted. {@link #checkContent} looks at the record
 * alone (and the wall clock); the timestamp extractor runs it too, so that a record it rejects is
 * timed at the partition's stream time and never moves it. {@link #checkLate} needs the
 * partition's watermark and runs in the ingest processor only.
 */
public final class UsageValidation {

  /** How much of a caller's value a dead-letter message quotes: enough to recognise, never a whole payload. */
  private static final int QUOTE_LENGTH = 64;

  private final long futureToleranceMillis;
  private final long lateGraceMillis;
  private final int partitions;

  /**
   * @param partitions partitions of usage-events (and of api-keys, co-partitioned with it)
   */
  public UsageValidation(Duration futureTolerance, Duration lateGrace, int partitions) {
    this.futureToleranceMillis = futureTolerance.toMillis();
    this.lateGraceMillis = lateGrace.toMillis();
    this.partitions = partitions;
  }

  /**
   * Everything but lateness: required fields, field sizes and characters, key and partition, token
   * counts, future times.
   *
   * @param key the record key
   * @param partition the partition of usage-events the record was read from
   * @param nowMillis the wall clock
   */
  public Optional<Rejection> checkContent(Object key, int partition, UsageEvent event, long nowMillis) {
    // field by field, without building a list: this runs twice for every record
    Optional<Rejection> strings = checkString("event_id", event.getEventId(), true)
        .or(() -> checkString("org_id", event.getOrgId(), true))
        .or(() -> checkString("api_key_id", event.getApiKeyId(), true))
        .or(() -> checkString("model", event.getModel(), true))
        .or(() -> checkString("gateway_id", event.getGatewayId(), false))
        .or(() -> checkString("request_id", event.getRequestId(), false));
    if (strings.isPresent()) {
      return strings;
    }
    if (event.getTimestamp() <= 0) {
      return reject(RejectReason.MISSING_FIELD, "required field timestamp is not a positive epoch millis value: "
          + event.getTimestamp());
    }
    if (event.getModel().equals(UsageLimits.OTHER_MODELS)) {
      return reject(RejectReason.RESERVED_VALUE, UsageLimits.OTHER_MODELS_RESERVED);
    }
    if (!event.getApiKeyId().equals(key)) {
      return reject(RejectReason.KEY_MISMATCH, "record key " + (key == null ? "null" : quote(key.toString()))
          + " is not the event's api_key_id " + quote(event.getApiKeyId()));
    }
    int keysPartition = KeyPartitions.of(event.getApiKeyId(), partitions);
    if (partition != keysPartition) {
      // its key's record in api-keys, totals, dedup and queries are all in the key's own partition
      return reject(RejectReason.WRONG_PARTITION, "the record is in partition " + partition + ", its key "
          + quote(event.getApiKeyId()) + " in partition " + keysPartition + " of " + partitions
          + " (the producer must partition by key with Kafka's default partitioner)");
    }
    Optional<Rejection> tokens = checkTokens(event);
    if (tokens.isPresent()) {
      return tokens;
    }
    long time = event.getTimestamp();
    if (time > nowMillis + futureToleranceMillis) {
      return reject(RejectReason.FUTURE_EVENT, "event time " + instant(time) + " is more than "
          + Durations.inWords(Duration.ofMillis(futureToleranceMillis)) + " ahead of the clock " + instant(nowMillis));
    }
    return Optional.empty();
  }

  /**
   * @param watermarkMillis the highest event time the partition has accepted, or Long.MIN_VALUE
   */
  public Optional<Rejection> checkLate(UsageEvent event, long watermarkMillis) {
    long time = event.getTimestamp();
    if (watermarkMillis != Long.MIN_VALUE && time < watermarkMillis - lateGraceMillis) {
      return reject(RejectReason.LATE_EVENT, "event time " + instant(time) + " is more than "
          + Durations.inWords(Duration.ofMillis(lateGraceMillis))
          + " behind the newest event time accepted on its partition "
          + instant(watermarkMillis));
    }
    return Optional.empty();
  }

  private static Optional<Rejection> checkString(String field, String value, boolean required) {
    if (required && (value == null || value.isBlank())) {
      return reject(RejectReason.MISSING_FIELD, "required field " + field + " is empty");
    }
    if (value != null && value.length() > UsageLimits.MAX_FIELD_LENGTH) {
      return reject(RejectReason.FIELD_TOO_LONG, field + " has " + value.length()
          + " characters, more than " + UsageLimits.MAX_FIELD_LENGTH + ": " + quote(value));
    }
    UsageLimits.BadCharacters bad = value == null ? null : UsageLimits.badIdentifierCharacters(value);
    if (bad != null) {
      return reject(bad == UsageLimits.BadCharacters.MALFORMED ? RejectReason.MALFORMED_TEXT : RejectReason.CONTROL_CHARACTERS,
          bad.problem(field) + ": " + quote(value));
    }
    return Optional.empty();
  }

  private static Optional<Rejection> checkTokens(UsageEvent event) {
    long[] counts = {event.getInputTokens(), event.getOutputTokens(),
        event.getCacheCreationInputTokens(), event.getCacheReadInputTokens()};
    String[] names = {"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"};
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] < 0) {
        return reject(RejectReason.NEGATIVE_TOKENS, names[i] + " is negative: " + counts[i]);
      }
      if (counts[i] > UsageLimits.MAX_TOKENS_PER_KIND) {
        return reject(RejectReason.TOKENS_OUT_OF_RANGE, names[i] + " is " + counts[i]
            + ", more than one call can use (" + UsageLimits.MAX_TOKENS_PER_KIND + ")");
      }
    }
    return Optional.empty();
  }

  /**
   * A caller's value for a message: quoted, cut to its start when long, and with its control
   * characters written as escapes, since the message goes on into logs and the dead letter's
   * header (a line break in it would forge a log line, an escape sequence drive a terminal).
   */
  static String quote(String value) {
    return value.length() <= QUOTE_LENGTH ? "'" + Text.escapeControls(value) + "'"
        : "'" + Text.escapeControls(value.substring(0, QUOTE_LENGTH)) + "...' (" + value.length() + " characters)";
  }

  private static Optional<Rejection> reject(RejectReason reason, String message) {
    return Optional.of(new Rejection(reason, message));
  }

  private static Instant instant(long millis) {
    return Instant.ofEpochMilli(millis);
  }
}
