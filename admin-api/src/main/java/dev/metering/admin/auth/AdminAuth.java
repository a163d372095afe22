package dev.metering.admin.auth;

import dev.metering.keys.Secrets;
import dev.metering.admin.Audits;
import dev.metering.admin.http.ApiError;
import dev.metering.admin.keys.KeyStore;
import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import java.time.Clock;
import java.util.List;

/**
 * Authenticates admin requests: {@code Authorization: Bearer <key>} or {@code x-api-key}. The
 * key must be an active key (or a rotated-out secret still in its grace period) carrying the
 * {@code admin} permission; its organisation scopes everything the request touches. Secrets are
 * compared by hash, in constant time, and never logged.
 */
public final class AdminAuth {

  public static final String ADMIN_PERMISSION = "admin";

  private final KeyStore keys;
  private final Clock clock;

  public AdminAuth(KeyStore keys, Clock clock) {
    this.keys = keys;
    this.clock = clock;
  }

  private static final String HOW = "Authorization: Bearer <admin key> or x-api-key";

  /**
   * @param authorization every Authorization header of the request
   * @param xApiKey every x-api-key header of the request
   */
  public Principal authenticate(List<String> authorization, List<String> xApiKey) {
    String secret = Credentials.single(authorization, xApiKey, HOW);
    if (secret == null) {
      throw ApiError.unauthorized("an admin key is required (" + HOW + ")");
    }
    String hash = Secrets.hash(secret);
    ApiKey key = keys.bySecretHash(hash).orElseThrow(() -> ApiError.unauthorized("invalid API key"));
    long now = clock.millis();
    boolean current = Secrets.sameHash(hash, key.getSecretHash());
    boolean inGrace = !current && Secrets.sameHash(hash, key.getPreviousSecretHash())
        && key.getPreviousSecretExpiresAt() != null && key.getPreviousSecretExpiresAt() > now;
    if (!current && !inGrace) {
      throw ApiError.unauthorized("invalid API key");
    }
    if (key.getStatus() != ApiKeyStatus.ACTIVE || (key.getExpiresAt() != null && key.getExpiresAt() <= now)) {
      throw ApiError.unauthorized("this API key is revoked or expired");
    }
    if (!key.getPermissions().contains(ADMIN_PERMISSION)) {
      throw ApiError.forbidden("this API key is not an admin key");
    }
    // An admin key's name is the admin's email, fixed since issue 14; a key renamed into the
    // services' namespace before that acts under its id instead.
    String actor = key.getName().regionMatches(true, 0, Audits.SYSTEM_PREFIX, 0, Audits.SYSTEM_PREFIX.length())
        ? "key:" + key.getId() : key.getName();
    return new Principal(key.getOrgId(), actor, key.getId());
  }
}
