package dev.metering.keys;

import dev.metering.records.ApiKey;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Secret hash to key id, fed by every api-keys record seen: a key's current secret and, during a
 * rotation's grace period, its previous one. Callers check which hash matched, and its expiry.
 */
public final class SecretIndex {

  private final Map<String, String> idByHash = new ConcurrentHashMap<>();

  /** Records the hashes of {@code key} (null: a tombstone, which changes nothing). */
  public void update(String id, ApiKey key) {
    if (key != null) {
      idByHash.put(key.getSecretHash(), id);
      if (key.getPreviousSecretHash() != null) {
        idByHash.put(key.getPreviousSecretHash(), id);
      }
    }
  }

  public Optional<String> idOf(String secretHash) {
    return Optional.ofNullable(idByHash.get(secretHash));
  }
}
