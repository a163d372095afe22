package dev.metering.admin.keys;

import dev.metering.api.Dollars;
import dev.metering.admin.Audits;
import dev.metering.admin.auth.AdminAuth;
import dev.metering.admin.auth.Principal;
import dev.metering.admin.http.ApiError;
import dev.metering.admin.http.Body;
import dev.metering.keys.Secrets;
import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.AuditRecord;
import dev.metering.schemas.AuditEventType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The rules of changing an API key, as pure functions of the key as it is, what is asked and the
 * time: each gives the key's next state with one audit record per kind of change, or refuses
 * (an {@link ApiError}). Writing the change, conditionally on the key still being as it was, is
 * {@link KeyStore}'s job; HTTP is {@link KeyRoutes}'.
 */
public final class KeyChanges {

  /** The longest a rotated-out secret may keep working. */
  public static final long MAX_GRACE_SECONDS = 30L * 86_400;

  private KeyChanges() {
  }

  /** A key's next state and the audit records of the change; no records when nothing changes. */
  public record Change(ApiKey next, List<AuditRecord> audits) {
    public Change {
      audits = List.copyOf(audits);
    }

    public boolean changesNothing() {
      return audits.isEmpty();
    }
  }

  /**
   * What an update asks for. A null field is left as it is; {@code description} and
   * {@code maxTokensPerMonth} may be set to null, so their presence is said apart.
   */
  public record Update(String name, List<String> permissions, boolean descriptionGiven, String description,
      boolean limitGiven, Long maxTokensPerMonth, boolean costLimitGiven, Long maxCostMicrosPerMonth,
      Boolean hardLimit) {
  }

  /** An update of name, description, permissions or limit. */
  public static Change update(ApiKey current, Update request, Principal principal, Audits audits, long now) {
    requireActive(current);
    boolean wasAdmin = current.getPermissions().contains(AdminAuth.ADMIN_PERMISSION);
    List<String> permissions = request.permissions();
    if (permissions != null && permissions.contains(AdminAuth.ADMIN_PERMISSION) && !wasAdmin
        && !Body.isEmail(current.getName())) {
      throw ApiError.invalid("permissions", "only a key named by an email address may become an admin key: an admin"
          + " key's name is the admin's identity in the audit log");
    }
    if (wasAdmin && request.name() != null && !request.name().equals(current.getName())) {
      throw ApiError.invalid("name", "an admin key's name is the admin's email, its identity in the audit log, and"
          + " cannot change; create a new admin key instead");
    }
    ApiKey next = ApiKey.newBuilder(current).build();
    List<AuditRecord> records = new ArrayList<>();
    String actor = principal.actor();
    if (permissions != null && !permissions.equals(current.getPermissions())) {
      next.setPermissions(new ArrayList<>(permissions));
      records.add(audits.of(principal, AuditEventType.PERMISSION_CHANGED, current.getId(), actor
          + " changed the permissions of " + current.getName() + " from " + current.getPermissions() + " to "
          + permissions, Map.of("from", String.join(",", current.getPermissions()), "to", String.join(",", permissions))));
    }
    Long limit = request.limitGiven() ? request.maxTokensPerMonth() : current.getMaxTokensPerMonth();
    Long cost = request.costLimitGiven() ? request.maxCostMicrosPerMonth() : current.getMaxCostMicrosPerMonth();
    boolean hard = request.hardLimit() != null ? request.hardLimit() : current.getHardLimit();
    if (!Objects.equals(limit, current.getMaxTokensPerMonth()) || !Objects.equals(cost, current.getMaxCostMicrosPerMonth())
        || hard != current.getHardLimit()) {
      next.setMaxTokensPerMonth(limit);
      next.setMaxCostMicrosPerMonth(cost);
      next.setHardLimit(hard);
      Map<String, String> details = new java.util.LinkedHashMap<>();
      details.put("from", String.valueOf(current.getMaxTokensPerMonth()));
      details.put("to", String.valueOf(limit));
      details.put("hard_limit", Boolean.toString(hard));
      if (cost != null || current.getMaxCostMicrosPerMonth() != null) {
        details.put("cost_from", dollars(current.getMaxCostMicrosPerMonth()));
        details.put("cost_to", dollars(cost));
      }
      records.add(audits.of(principal, AuditEventType.LIMIT_CHANGED, current.getId(), actor + " changed the limit of "
          + current.getName() + " from " + describe(current.getMaxTokensPerMonth(), current.getMaxCostMicrosPerMonth(),
          current.getHardLimit()) + " to " + describe(limit, cost, hard), details));
    }
    String name = request.name() != null ? request.name() : current.getName();
    String description = request.descriptionGiven() ? request.description() : current.getDescription();
    if (!name.equals(current.getName()) || !Objects.equals(description, current.getDescription())) {
      next.setName(name);
      next.setDescription(description);
      records.add(audits.of(principal, AuditEventType.KEY_UPDATED, current.getId(), actor + " renamed or redescribed "
          + current.getName(), Map.of("name", name, "description", String.valueOf(description))));
    }
    if (records.isEmpty()) {
      return new Change(current, List.of());
    }
    next.setUpdatedAt(nextVersion(current, now));
    return new Change(next, records);
  }

  /** Revocation: for good (a revoked key is never reinstated), and never of the admin key acting. */
  public static Change revoke(ApiKey current, Principal principal, Audits audits, long now) {
    requireActive(current);
    if (current.getId().equals(principal.adminKeyId())) {
      throw ApiError.conflict("an admin key cannot revoke itself; use another admin key");
    }
    ApiKey revoked = ApiKey.newBuilder(current).setStatus(ApiKeyStatus.REVOKED).setUpdatedAt(nextVersion(current, now))
        .build();
    return new Change(revoked, List.of(audits.of(principal, AuditEventType.KEY_REVOKED, current.getId(),
        principal.actor() + " revoked API key " + current.getName(), Map.of("name", current.getName()))));
  }

  /**
   * A new secret for the same key id (its usage and limit carry on); the old secret keeps working
   * for {@code graceSeconds}, from 0 to {@link #MAX_GRACE_SECONDS}.
   */
  public static Change rotate(ApiKey current, String newSecret, long graceSeconds, Principal principal, Audits audits,
      long now) {
    requireActive(current);
    if (graceSeconds < 0 || graceSeconds > MAX_GRACE_SECONDS) {
      throw ApiError.invalid("grace_period_seconds", "grace_period_seconds must be from 0 to 30 days");
    }
    long oldWorksUntil = now + graceSeconds * 1000;
    ApiKey rotated = ApiKey.newBuilder(current)
        .setSecretHash(Secrets.hash(newSecret))
        .setKeyPrefix(Secrets.displayPrefix(newSecret))
        .setPreviousSecretHash(graceSeconds > 0 ? current.getSecretHash() : null)
        .setPreviousSecretExpiresAt(graceSeconds > 0 ? oldWorksUntil : null)
        .setUpdatedAt(nextVersion(current, now))
        .build();
    return new Change(rotated, List.of(audits.of(principal, AuditEventType.KEY_ROTATED, current.getId(),
        principal.actor() + " rotated the secret of " + current.getName() + (graceSeconds > 0
            ? "; the old secret works until " + Instant.ofEpochMilli(oldWorksUntil) : "; the old secret stopped working"),
        Map.of("grace_period_seconds", Long.toString(graceSeconds), "new_key_prefix", rotated.getKeyPrefix()))));
  }

  /** A key's version is its updated_at in milliseconds; every change moves it forward, even within a millisecond. */
  public static long nextVersion(ApiKey current, long now) {
    return Math.max(now, current.getUpdatedAt() + 1);
  }

  static void requireActive(ApiKey key) {
    if (key.getStatus() == ApiKeyStatus.REVOKED) {
      throw ApiError.conflict("API key " + key.getId() + " is revoked");
    }
  }

  /** A key's limits or an organisation's budget in words: "1000 tokens/month or $2.50/month (hard)". */
  public static String describe(Long limit, Long costMicros, boolean hard) {
    if (limit == null && costMicros == null) {
      return "unlimited";
    }
    String limits = limit == null ? "" : limit + " tokens/month";
    if (costMicros != null) {
      limits += (limits.isEmpty() ? "" : " or ") + "$" + Dollars.format(costMicros) + "/month";
    }
    return limits + " (" + (hard ? "hard" : "soft") + ")";
  }

  /** A cost limit in an audit record's details: dollars, or "null" for none (as token limits are written). */
  public static String dollars(Long micros) {
    return micros == null ? "null" : Dollars.format(micros);
  }
}
