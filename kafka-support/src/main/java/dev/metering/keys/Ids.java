package dev.metering.keys;

import java.util.UUID;

/**
 * Random ids of the records people create ({@code key_...}, {@code alr_...}, {@code aud_...}):
 * a short type prefix and 128 random bits in hex, so an id says what it names and cannot be
 * guessed. Ids derived from a cause (notifications, alert-service's audit records) are made where
 * the cause is.
 */
public final class Ids {

  public static final String API_KEY = "key_";
  public static final String ALERT_RULE = "alr_";
  public static final String AUDIT_RECORD = "aud_";
  public static final String REQUEST = "req_";

  private Ids() {
  }

  /** A new random id with {@code prefix}. */
  public static String random(String prefix) {
    return prefix + UUID.randomUUID().toString().replace("-", "");
  }
}
