package dev.metering.alerts.delivery;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/** Exponential backoff with full jitter, capped; a server's Retry-After wins when it is longer. */
public record Backoff(Duration initial, Duration max) {

  /** Wait before attempt {@code next} (2 for the first retry). */
  public Duration before(int next, Duration retryAfter) {
    long ceiling = Math.min(max.toMillis(), initial.toMillis() << Math.min(30, Math.max(0, next - 2)));
    long jittered = ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
    long wait = retryAfter == null ? jittered : Math.max(jittered, Math.min(retryAfter.toMillis(), max.toMillis()));
    return Duration.ofMillis(wait);
  }
}
