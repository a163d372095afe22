package dev.metering.alerts.delivery;

import java.time.Duration;
import java.util.Optional;

/** The outcome of one delivery attempt. */
public sealed interface Attempt {

  String detail();

  record Delivered(String detail) implements Attempt {
  }

  /** Worth trying again (connection error, timeout, 5xx, 429); {@code after} is the server's Retry-After. */
  record Retry(String detail, Optional<Duration> after) implements Attempt {
  }

  /** Will never succeed as it is (4xx, invalid address). */
  record Failed(String detail) implements Attempt {
  }
}
