package dev.metering.gateway;

import dev.metering.kafka.TopicView;
import dev.metering.keys.SecretIndex;
import dev.metering.keys.Secrets;
import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.KeyState;
import dev.metering.records.KeyStatus;
import dev.metering.schemas.Topics;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides, locally and in microseconds, whether a secret may make a call: a continuously updated
 * view of api-keys and key-status (compacted topics read from the beginning) and an index from
 * secret hash to key. No network call per request. Ready once both views have caught up with the
 * topics as they were at start, and only while both keep reading and can confirm they hold
 * everything committed: until then, once one has stopped, or once one has gone
 * {@link #MAX_UNCONFIRMED} without confirming (Kafka unreachable: a revocation or suspension
 * written meanwhile would not be seen), every call is denied as {@link Decision.Reason#UNAVAILABLE}
 * (it fails closed).
 */
public final class KeyGuard implements AutoCloseable {

  /** The permission of admin keys (admin-api's), which an organisation's suspension leaves working. */
  static final String ADMIN_PERMISSION = "admin";

  /** How long a view may go without confirming with Kafka that it is current before calls are refused. */
  public static final Duration MAX_UNCONFIRMED = TopicView.MAX_UNCONFIRMED;

  private static final Logger log = LoggerFactory.getLogger(KeyGuard.class);

  private final TopicView<String, ApiKey> keys;
  private final TopicView<String, KeyStatus> statuses;
  private final SecretIndex secrets = new SecretIndex();
  private final Clock clock;
  private final Duration maxUnconfirmed;
  private volatile boolean unconfirmed;

  private KeyGuard(String bootstrapServers, Clock clock, Duration maxUnconfirmed) {
    this.clock = clock;
    this.maxUnconfirmed = maxUnconfirmed;
    this.keys = TopicView.start(bootstrapServers, Topics.API_KEYS.name(), Topics.API_KEYS.keySerde().deserializer(),
        Topics.API_KEYS.valueSerde().deserializer(), secrets::update);
    this.statuses = TopicView.start(bootstrapServers, Topics.KEY_STATUS.name(),
        Topics.KEY_STATUS.keySerde().deserializer(), Topics.KEY_STATUS.valueSerde().deserializer(), null);
  }

  public static KeyGuard start(String bootstrapServers, Clock clock) {
    return start(bootstrapServers, clock, MAX_UNCONFIRMED);
  }

  /** @param maxUnconfirmed how long a view may go without confirming it is current before calls are refused */
  public static KeyGuard start(String bootstrapServers, Clock clock, Duration maxUnconfirmed) {
    if (maxUnconfirmed.compareTo(Duration.ofSeconds(2)) < 0) {
      throw new IllegalArgumentException("maxUnconfirmed must be at least 2 s (the views confirm every second), got "
          + maxUnconfirmed);
    }
    return new KeyGuard(bootstrapServers, clock, maxUnconfirmed);
  }

  public boolean ready() {
    boolean ready = keys.current(maxUnconfirmed) && statuses.current(maxUnconfirmed);
    // said once per change, and only while both views read on (one that stopped said so itself)
    boolean reading = keys.isCaughtUp() && statuses.isCaughtUp() && keys.healthy() && statuses.healthy();
    if (ready == unconfirmed && reading) {
      unconfirmed = !ready;
      if (ready) {
        log.info("the views of api-keys and key-status are current again: calls are judged again");
      } else {
        log.warn("refusing every call: the views of api-keys and key-status were last confirmed current with Kafka"
            + " {} and {} ms ago (at most {} ms), so a revocation or suspension written since could be missing",
            keys.confirmedAge().toMillis(), statuses.confirmedAge().toMillis(), maxUnconfirmed.toMillis());
      }
    }
    return ready;
  }

  public void awaitReady(Duration timeout) throws InterruptedException {
    keys.awaitCaughtUp(timeout);
    statuses.awaitCaughtUp(timeout);
  }

  /** Whether {@code secret} may make a call needing {@code permission}. */
  public Decision authorize(String secret, String permission) {
    if (!ready()) {
      return new Decision.Denied(Decision.Reason.UNAVAILABLE, "API keys are not loaded (or no longer updated);"
          + " retry shortly", null, null);
    }
    if (secret == null || secret.isBlank()) {
      return new Decision.Denied(Decision.Reason.UNKNOWN_KEY, "no API key given", null, null);
    }
    String hash = Secrets.hash(secret);
    ApiKey key = secrets.idOf(hash).map(keys::get).orElse(null);
    if (key == null) {
      return new Decision.Denied(Decision.Reason.UNKNOWN_KEY, "invalid API key", null, null);
    }
    long now = clock.millis();
    boolean current = Secrets.sameHash(hash, key.getSecretHash());
    if (!current) {
      boolean previous = Secrets.sameHash(hash, key.getPreviousSecretHash());
      if (!previous) {
        return new Decision.Denied(Decision.Reason.UNKNOWN_KEY, "invalid API key", null, null);
      }
      if (key.getPreviousSecretExpiresAt() == null || key.getPreviousSecretExpiresAt() <= now) {
        return new Decision.Denied(Decision.Reason.EXPIRED, "this API key was rotated; use its new secret", key, null);
      }
    }
    if (key.getStatus() == ApiKeyStatus.REVOKED) {
      return new Decision.Denied(Decision.Reason.REVOKED, "this API key was revoked", key, null);
    }
    if (key.getExpiresAt() != null && key.getExpiresAt() <= now) {
      return new Decision.Denied(Decision.Reason.EXPIRED, "this API key has expired", key, null);
    }
    if (permission != null && !key.getPermissions().contains(permission)) {
      return new Decision.Denied(Decision.Reason.FORBIDDEN, "this API key lacks the permission " + permission, key, null);
    }
    KeyStatus status = statuses.get(key.getId());
    if (suspendedNow(status, now)) {
      Instant until = until(status);
      return new Decision.Denied(Decision.Reason.SUSPENDED, "this API key is suspended: " + status.getReason()
          + (until == null ? "" : "; it is reinstated at " + until), key, until);
    }
    // the organisation's own status is keyed by its org_id; its admin keys keep working so an admin can act
    KeyStatus org = key.getPermissions().contains(ADMIN_PERMISSION) ? null : statuses.get(key.getOrgId());
    if (org != null && org.getApiKeyId() == null && suspendedNow(org, now)) {
      Instant until = until(org);
      return new Decision.Denied(Decision.Reason.ORG_SUSPENDED, "this API key's organisation is suspended: "
          + org.getReason() + (until == null ? "" : "; its keys are reinstated at " + until), key, until);
    }
    return new Decision.Allowed(key);
  }

  /** A suspension whose month is over no longer applies, even before alert-service writes ACTIVE. */
  private static boolean suspendedNow(KeyStatus status, long now) {
    return status != null && status.getState() == KeyState.SUSPENDED
        && (status.getSuspendedUntil() == null || status.getSuspendedUntil() > now);
  }

  private static Instant until(KeyStatus status) {
    return status.getSuspendedUntil() == null ? null : Instant.ofEpochMilli(status.getSuspendedUntil());
  }

  /** Keys known, for dashboards. */
  public int keyCount() {
    return (int) keys.values().count();
  }

  /** Keys suspended right now, each by its own limit (not counting the keys of suspended organisations). */
  public long suspendedCount() {
    long now = clock.millis();
    return statuses.values().filter(s -> s.getApiKeyId() != null && suspendedNow(s, now)).count();
  }


  @Override
  public void close() {
    keys.close();
    statuses.close();
  }
}
