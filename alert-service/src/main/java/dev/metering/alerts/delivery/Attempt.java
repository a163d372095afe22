package dev.metering.alerts.delivery;

import java.time.Duration;
import java.util.Optional;

/**
 * The outcome of one delivery attempt. Its detail comes from outside (an SMTP server's reply, an
 * exception's message) and ends up in an audit record, so it is cut to {@link #MAX_DETAIL}
 * characters: a receiver cannot make the record too large to write, which would hold its
 * notification's offset uncommitted for good.
 */
public sealed interface Attempt {

  int MAX_DETAIL = 500;

  String detail();

  record Delivered(String detail) implements Attempt {
    public Delivered {
      detail = bounded(detail);
    }
  }

  /** Worth trying again (connection error, timeout, 5xx, 429); {@code after} is the server's Retry-After. */
  record Retry(String detail, Optional<Duration> after) implements Attempt {
    public Retry {
      detail = bounded(detail);
    }
  }

  /** Will never succeed as it is (4xx, invalid address). */
  record Failed(String detail) implements Attempt {
    public Failed {
      detail = bounded(detail);
    }
  }

  private static String bounded(String detail) {
    if (detail == null || detail.length() <= MAX_DETAIL) {
      return detail;
    }
    int end = Character.isHighSurrogate(detail.charAt(MAX_DETAIL - 1)) ? MAX_DETAIL - 1 : MAX_DETAIL;
    return detail.substring(0, end) + "... (" + (detail.length() - end) + " more characters)";
  }
}
