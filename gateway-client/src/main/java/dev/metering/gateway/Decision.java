package dev.metering.gateway;

import dev.metering.records.ApiKey;
import java.time.Instant;

/** KeyGuard's answer for one call: allowed with the key, or denied with the reason. */
public sealed interface Decision {

  /** Why a call is refused. */
  enum Reason {
    /** No key has this secret. */
    UNKNOWN_KEY,
    /** The key was revoked. */
    REVOKED,
    /** The key reached its hard monthly limit; see {@link Denied#suspendedUntil()}. */
    SUSPENDED,
    /**
     * The key's organisation reached its hard monthly budget: every key of the org but its admin
     * keys is refused until the month ends or the budget is raised; see {@link Denied#suspendedUntil()}.
     */
    ORG_SUSPENDED,
    /** The key lacks the permission the call needs. */
    FORBIDDEN,
    /** A secret rotated out whose grace period has ended, or a key past its expiry. */
    EXPIRED,
    /**
     * The guard cannot decide: its views have not caught up yet, or one stopped reading. Fail
     * closed (answer 503 and let the caller retry) rather than judge from a missing or frozen copy.
     */
    UNAVAILABLE
  }

  boolean allowed();

  record Allowed(ApiKey key) implements Decision {
    @Override
    public boolean allowed() {
      return true;
    }
  }

  /**
   * @param key the key, when one matched the secret
   * @param suspendedUntil for SUSPENDED and ORG_SUSPENDED: when the suspension ends
   */
  record Denied(Reason reason, String message, ApiKey key, Instant suspendedUntil) implements Decision {
    @Override
    public boolean allowed() {
      return false;
    }
  }
}
