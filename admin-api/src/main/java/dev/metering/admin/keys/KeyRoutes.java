package dev.metering.admin.keys;

import dev.metering.admin.ChangeWriter;
import dev.metering.keys.Ids;
import dev.metering.schemas.AuditEventType;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.admin.Audits;
import dev.metering.admin.auth.AdminAuth;
import dev.metering.admin.auth.Principal;
import dev.metering.keys.Secrets;
import dev.metering.admin.http.ApiError;
import dev.metering.admin.http.Body;
import dev.metering.admin.http.Route;
import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.AuditRecord;
import dev.metering.schemas.QueryTimes;
import dev.metering.schemas.UsageLimits;
import dev.metering.api.Dollars;
import dev.metering.api.admin.ApiKeyInfo;
import dev.metering.records.KeyStatus;
import dev.metering.api.admin.ApiKeyList;
import dev.metering.api.admin.CreateApiKey;
import dev.metering.api.admin.RotateApiKey;
import dev.metering.api.admin.UpdateApiKey;
import dev.metering.api.openapi.OpenApi.Parameter;
import io.javalin.http.Context;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * API keys: create (the secret is shown once), list, get, update, revoke and rotate. Rotation
 * keeps the key id, so the key's usage and monthly limit carry on; the old secret keeps working
 * for the grace period asked for (default 0).
 */
public final class KeyRoutes {

  public static final Set<String> PERMISSIONS = Set.of("messages:read", "messages:write", AdminAuth.ADMIN_PERMISSION);
  private static final List<String> DEFAULT_PERMISSIONS = List.of("messages:read", "messages:write");
  private static final String BASE = "/v1/organizations/api_keys";
  private static final String TAG = "api_keys";

  private final KeyStore keys;
  private final Audits audits;
  private final ObjectMapper json;
  private final Clock clock;

  private final int maxKeysPerOrg;

  public KeyRoutes(KeyStore keys, Audits audits, ObjectMapper json, Clock clock, int maxKeysPerOrg) {
    this.maxKeysPerOrg = maxKeysPerOrg;
    this.keys = keys;
    this.audits = audits;
    this.json = json;
    this.clock = clock;
  }

  public List<Route> routes() {
    return List.of(
        Route.post(TAG, BASE, "createApiKey", "Create an API key; the response holds its secret, shown this once",
            CreateApiKey.class, 201, ApiKeyInfo.class, this::create),
        Route.get(TAG, BASE, "listApiKeys", "List the organisation's API keys, newest first", List.of(
            Parameter.optional("status", String.class, "only keys in this status", "active", "revoked"),
            Parameter.optional("created_before", Instant.class, "only keys created before this time"),
            Parameter.optional("limit", Integer.class, "keys per page, 1 to 100; default 20"),
            Parameter.optional("after_id", String.class, "the last_id of the previous page")),
            ApiKeyList.class, this::list),
        Route.get(TAG, BASE + "/{api_key_id}", "getApiKey",
            "Get an API key; its ETag is the version an If-Match on a change names", List.of(), ApiKeyInfo.class,
            (ctx, p) -> view(ctx, owned(ctx, p), null)),
        Route.post(TAG, BASE + "/{api_key_id}", "updateApiKey",
            "Update an API key's name, description, permissions or limit; If-Match makes it conditional",
            UpdateApiKey.class, 200, ApiKeyInfo.class, this::update),
        Route.post(TAG, BASE + "/{api_key_id}/revoke", "revokeApiKey", "Revoke an API key", null, 200,
            ApiKeyInfo.class, this::revoke),
        Route.post(TAG, BASE + "/{api_key_id}/rotate", "rotateApiKey",
            "Give an API key a new secret, shown this once; the old one works for the grace period",
            RotateApiKey.class, 200, ApiKeyInfo.class, this::rotate));
  }

  /** Creates a key in {@code principal}'s org; used by the API and by the bootstrap of admin keys. */
  public ApiKeyInfo create(Context ctx, Principal principal) {
    Body body = Body.parse(json, ctx.body(), CreateApiKey.class);
    List<String> permissions = Objects.requireNonNullElse(body.strings("permissions", PERMISSIONS), DEFAULT_PERMISSIONS);
    String name = name(body, true, permissions.contains(AdminAuth.ADMIN_PERMISSION));
    String secret = Secrets.generate();
    long now = clock.millis();
    ApiKey key = ApiKey.newBuilder()
        .setId(Ids.random(Ids.API_KEY))
        .setOrgId(principal.orgId())
        .setName(name)
        .setDescription(body.string("description", false, 1024))
        .setKeyPrefix(Secrets.displayPrefix(secret))
        .setSecretHash(Secrets.hash(secret))
        .setPermissions(new ArrayList<>(permissions))
        .setMaxTokensPerMonth(body.positiveLong("max_tokens_per_month", UsageLimits.MAX_TOKENS_PER_MONTH))
        .setMaxCostMicrosPerMonth(body.dollars("max_cost_per_month", UsageLimits.MAX_COST_MICROS_PER_MONTH))
        .setHardLimit(Objects.requireNonNullElse(body.bool("hard_limit"), false))
        .setStatus(ApiKeyStatus.ACTIVE)
        .setCreatedAt(now)
        .setCreatedBy(principal.actor())
        .setUpdatedAt(now)
        .build();
    putNew(key, audits.of(principal, AuditEventType.KEY_CREATED, key.getId(),
        principal.actor() + " created API key " + key.getName() + " (" + key.getKeyPrefix() + "...)", Map.of(
            "name", key.getName(), "permissions", String.join(",", key.getPermissions()),
            "max_tokens_per_month", String.valueOf(key.getMaxTokensPerMonth()),
            "max_cost_per_month", KeyChanges.dollars(key.getMaxCostMicrosPerMonth()),
            "hard_limit", Boolean.toString(key.getHardLimit()))));
    return view(ctx, key, secret);
  }

  /** An admin key for {@code adminEmail} in {@code principal}'s org; the answer holds its secret. */
  public ApiKeyInfo createAdmin(Principal principal, String adminEmail) {
    String secret = Secrets.generate();
    ApiKey key = adminKey(Ids.random(Ids.API_KEY), principal.orgId(), adminEmail, secret,
        principal.actor());
    putNew(key, audits.of(principal, AuditEventType.KEY_CREATED, key.getId(), principal.actor() + " created admin key for "
        + adminEmail, Map.of("name", adminEmail, "permissions", AdminAuth.ADMIN_PERMISSION)));
    return view(key, secret);
  }

  /** Creates or resets the bootstrap admin key {@code id} with {@code secret}. */
  public void putBootstrap(String id, String orgId, String adminEmail, String secret, Principal system) {
    ApiKey key = adminKey(id, orgId, adminEmail, secret, system.actor());
    keys.put(key, List.of(audits.of(system, AuditEventType.KEY_CREATED, id, "bootstrap admin key for " + adminEmail
        + " set at start-up", Map.of("name", adminEmail, "permissions", AdminAuth.ADMIN_PERMISSION))), null);
  }

  private ApiKey adminKey(String id, String orgId, String adminEmail, String secret, String createdBy) {
    long now = clock.millis();
    return ApiKey.newBuilder()
        .setId(id).setOrgId(orgId).setName(adminEmail).setDescription("admin key")
        .setKeyPrefix(secret.substring(0, Math.min(11, secret.length()))).setSecretHash(Secrets.hash(secret))
        .setPermissions(new ArrayList<>(List.of(AdminAuth.ADMIN_PERMISSION)))
        .setMaxTokensPerMonth(null).setHardLimit(false).setStatus(ApiKeyStatus.ACTIVE)
        .setCreatedAt(now).setCreatedBy(createdBy).setUpdatedAt(now)
        .build();
  }

  private ApiKeyList list(Context ctx, Principal principal) {
    String status = ctx.queryParam("status");
    if (status != null && !status.equals("active") && !status.equals("revoked")) {
      throw ApiError.invalid("status", "status must be active or revoked");
    }
    Long createdBefore = instant("created_before", ctx.queryParam("created_before"));
    int limit = dev.metering.admin.http.Params.limit(ctx.queryParam("limit"), 20, 100);
    String afterId = ctx.queryParam("after_id");
    List<ApiKey> matching = keys.ofOrg(principal.orgId()).stream()
        .filter(k -> status == null || k.getStatus().name().equalsIgnoreCase(status))
        .filter(k -> createdBefore == null || k.getCreatedAt() < createdBefore)
        .toList();
    int start = 0;
    if (afterId != null) {
      start = -1;
      for (int i = 0; i < matching.size(); i++) {
        if (matching.get(i).getId().equals(afterId)) {
          start = i + 1;
        }
      }
      if (start < 0) {
        throw ApiError.invalid("after_id", "after_id is not a key of this list");
      }
    }
    List<ApiKey> page = matching.subList(start, Math.min(matching.size(), start + limit));
    return new ApiKeyList(page.stream().map(k -> view(k, null)).toList(), start + limit < matching.size(),
        page.isEmpty() ? null : page.get(0).getId(), page.isEmpty() ? null : page.get(page.size() - 1).getId());
  }

  private ApiKeyInfo update(Context ctx, Principal principal) {
    ApiKey current = ownedForChange(ctx, principal);
    KeyChanges.requireActive(current);
    Body body = Body.parse(json, ctx.body(), UpdateApiKey.class);
    if (body.has("hard_limit") && body.bool("hard_limit") == null) {
      throw ApiError.invalid("hard_limit", "hard_limit must be true or false");
    }
    KeyChanges.Update request = new KeyChanges.Update(name(body, false, false), body.strings("permissions", PERMISSIONS),
        body.has("description"), body.string("description", false, 1024), body.has("max_tokens_per_month"),
        body.positiveLong("max_tokens_per_month", UsageLimits.MAX_TOKENS_PER_MONTH), body.has("max_cost_per_month"),
        body.dollars("max_cost_per_month", UsageLimits.MAX_COST_MICROS_PER_MONTH), body.bool("hard_limit"));
    KeyChanges.Change change = KeyChanges.update(current, request, principal, audits, clock.millis());
    if (change.changesNothing()) {
      return view(ctx, current, null);
    }
    keys.put(change.next(), change.audits(), current);
    return view(ctx, change.next(), null);
  }

  /**
   * Revokes the key. A revocation is not a change computed from what the admin read: one that lost
   * a race to another change of the key (an update through another instance) is made again on the
   * key as it now is, so an admin revoking a leaked key is not told to retry while it keeps working.
   * Unless the request pins the version it read (If-Match), which then answers 409 as any change.
   */
  private ApiKeyInfo revoke(Context ctx, Principal principal) {
    ApiKey current = ownedForChange(ctx, principal);
    boolean pinned = ctx.header("If-Match") != null && !ctx.header("If-Match").strip().equals("*");
    for (int attempt = 1; ; attempt++) {
      KeyChanges.Change change = KeyChanges.revoke(current, principal, audits, clock.millis());
      try {
        keys.put(change.next(), change.audits(), current);
        return view(ctx, change.next(), null);
      } catch (ChangeWriter.Raced raced) {
        if (pinned || attempt == REVOKE_ATTEMPTS) {
          throw raced;
        }
        current = keys.latest(current.getId()).orElseThrow(() -> raced);
      }
    }
  }

  /** Revocations made again after losing a race, at most: a key changed this often is being fought over. */
  private static final int REVOKE_ATTEMPTS = 5;

  private ApiKeyInfo rotate(Context ctx, Principal principal) {
    ApiKey current = ownedForChange(ctx, principal);
    KeyChanges.requireActive(current);
    Body body = Body.parse(json, ctx.body(), RotateApiKey.class);
    long grace = body.longAtLeast("grace_period_seconds", 0, 0);
    String secret = Secrets.generate();
    KeyChanges.Change change = KeyChanges.rotate(current, secret, grace, principal, audits, clock.millis());
    keys.put(change.next(), change.audits(), current);
    return view(ctx, change.next(), secret);
  }

  /** Writes a new key if its organisation has room for one more, checked after every creation before it. */
  private void putNew(ApiKey key, AuditRecord audit) {
    keys.putNew(key, List.of(audit), () -> requireRoomForAKey(key.getOrgId()));
  }

  /** Keys are never deleted (a revoked key stays, with its audit trail), so an org's count is bounded. */
  private void requireRoomForAKey(String orgId) {
    int count = keys.ofOrg(orgId).size();
    if (count >= maxKeysPerOrg) {
      throw ApiError.conflict("this organisation already has " + count + " API keys, the most one may have"
          + " (ADMIN_MAX_KEYS_PER_ORG)");
    }
  }

  /**
   * A key's name: at most 256 characters, an email address for admin keys, and never in the
   * {@code system:} namespace, which names the services in the audit log.
   */
  private static String name(Body body, boolean required, boolean admin) {
    String name = admin ? body.email("name", required) : body.string("name", required, 256);
    if (name != null && name.regionMatches(true, 0, Audits.SYSTEM_PREFIX, 0, Audits.SYSTEM_PREFIX.length())) {
      throw ApiError.invalid("name", "names starting with " + Audits.SYSTEM_PREFIX + " are reserved for the services");
    }
    return name;
  }

  private ApiKey owned(Context ctx, Principal principal) {
    String id = ctx.pathParam("api_key_id");
    // another organisation's key is answered exactly like a key that does not exist
    return keys.owned(principal.orgId(), id)
        .orElseThrow(() -> ApiError.notFound("no API key " + id));
  }

  /**
   * The key a change applies to; with {@code If-Match}, only if it is still the version the
   * caller read (its ETag), else 409. Without it the change still applies only to the version
   * read here: a concurrent change elsewhere makes it 409 rather than be overwritten.
   */
  private ApiKey ownedForChange(Context ctx, Principal principal) {
    ApiKey current = owned(ctx, principal);
    String ifMatch = ctx.header("If-Match");
    if (ifMatch != null && !ifMatch.strip().equals("*") && !ifMatch.strip().equals(etag(current))) {
      throw ApiError.conflict("API key " + current.getId() + " changed since you read it (it is now " + etag(current)
          + "); read it again and retry");
    }
    return current;
  }

  /** The version of a key: its updated_at in milliseconds, which every change moves forward. */
  public static String etag(ApiKey key) {
    return "\"" + key.getUpdatedAt() + "\"";
  }

  private ApiKeyInfo view(Context ctx, ApiKey key, String secret) {
    ctx.header("ETag", etag(key));
    return view(key, secret);
  }

  /**
   * The key as the API shows it, with its suspension if gateways refuse it now; {@code secret} is
   * included only in the answers that create it.
   */
  private ApiKeyInfo view(ApiKey key, String secret) {
    Optional<KeyStatus> suspension = keys.suspension(key.getId(), clock.millis());
    Long until = suspension.map(KeyStatus::getSuspendedUntil).orElse(null);
    return new ApiKeyInfo(key.getId(), ApiKeyInfo.TYPE, key.getOrgId(), key.getName(), key.getDescription(),
        key.getKeyPrefix(), secret, List.copyOf(key.getPermissions()), key.getMaxTokensPerMonth(),
        key.getMaxCostMicrosPerMonth() == null ? null : Dollars.format(key.getMaxCostMicrosPerMonth()), key.getHardLimit(),
        key.getStatus().name().toLowerCase(Locale.ROOT), Instant.ofEpochMilli(key.getCreatedAt()), key.getCreatedBy(),
        Instant.ofEpochMilli(key.getUpdatedAt()), key.getPreviousSecretExpiresAt() == null ? null
            : Instant.ofEpochMilli(key.getPreviousSecretExpiresAt()),
        suspension.isPresent(), until == null ? null : Instant.ofEpochMilli(until));
  }

  private static Long instant(String field, String value) {
    Instant parsed = QueryTimes.instant(field, value, ApiError::invalid);
    return parsed == null ? null : parsed.toEpochMilli();
  }

}
