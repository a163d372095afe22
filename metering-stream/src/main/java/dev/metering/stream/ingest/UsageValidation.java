package dev.metering.stream.ingest;

import dev.metering.records.UsageEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/** The checks a usage event must pass to be counted. */
public final class UsageValidation {

  /** No single call carries more of one token kind; also keeps cost arithmetic within a long. */
  public static final long MAX_TOKENS_PER_KIND = 1_000_000_000L;

  private final long futureToleranceMillis;
  private final long lateGraceMillis;

  public UsageValidation(Duration futureTolerance, Duration lateGrace) {
    this.futureToleranceMillis = futureTolerance.toMillis();
    this.lateGraceMillis = lateGrace.toMillis();
  }

  /**
   * @param key the record key
   * @param nowMillis the wall clock
   * @param streamTimeMillis the highest event time the task has seen
   */
  public Optional<Rejection> check(String key, UsageEvent event, long nowMillis, long streamTimeMillis) {
    String missing = firstMissing(event);
    if (missing != null) {
      return reject(RejectReason.MISSING_FIELD, "required field " + missing + " is empty");
    }
    if (!event.getApiKeyId().equals(key)) {
      return reject(RejectReason.KEY_MISMATCH,
          "record key '" + key + "' is not the event's api_key_id '" + event.getApiKeyId() + "'");
    }
    Optional<Rejection> tokens = checkTokens(event);
    if (tokens.isPresent()) {
      return tokens;
    }
    long time = event.getTimestamp();
    if (time > nowMillis + futureToleranceMillis) {
      return reject(RejectReason.FUTURE_EVENT, "event time " + instant(time) + " is more than "
          + Duration.ofMillis(futureToleranceMillis) + " ahead of the clock " + instant(nowMillis));
    }
    if (time < streamTimeMillis - lateGraceMillis) {
      return reject(RejectReason.LATE_EVENT, "event time " + instant(time) + " is more than "
          + Duration.ofMillis(lateGraceMillis) + " behind the stream time " + instant(streamTimeMillis));
    }
    return Optional.empty();
  }

  private static String firstMissing(UsageEvent event) {
    if (event.getEventId().isBlank()) {
      return "event_id";
    }
    if (event.getOrgId().isBlank()) {
      return "org_id";
    }
    if (event.getApiKeyId().isBlank()) {
      return "api_key_id";
    }
    if (event.getModel().isBlank()) {
      return "model";
    }
    if (event.getTimestamp() <= 0) {
      return "timestamp";
    }
    return null;
  }

  private static Optional<Rejection> checkTokens(UsageEvent event) {
    long[] counts = {event.getInputTokens(), event.getOutputTokens(),
        event.getCacheCreationInputTokens(), event.getCacheReadInputTokens()};
    String[] names = {"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"};
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] < 0) {
        return reject(RejectReason.NEGATIVE_TOKENS, names[i] + " is negative: " + counts[i]);
      }
      if (counts[i] > MAX_TOKENS_PER_KIND) {
        return reject(RejectReason.TOKENS_OUT_OF_RANGE, names[i] + " is " + counts[i]
            + ", more than one call can use (" + MAX_TOKENS_PER_KIND + ")");
      }
    }
    return Optional.empty();
  }

  private static Optional<Rejection> reject(RejectReason reason, String message) {
    return Optional.of(new Rejection(reason, message));
  }

  private static Instant instant(long millis) {
    return Instant.ofEpochMilli(millis);
  }
}
