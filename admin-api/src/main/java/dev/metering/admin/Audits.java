package dev.metering.admin;

import dev.metering.keys.Ids;
import dev.metering.schemas.AuditEventType;
import dev.metering.admin.auth.Principal;
import dev.metering.records.AuditRecord;
import java.time.Clock;
import java.util.Map;

/**
 * Audit records of the control plane's changes, acted by the calling admin: the actor is the
 * admin's email (an admin key's name, fixed at creation) and {@code actor_key_id} the key used.
 */
public final class Audits {

  /** Actors in this namespace are services; no key may be named into it. */
  public static final String SYSTEM_PREFIX = "system:";

  private final Clock clock;

  public Audits(Clock clock) {
    this.clock = clock;
  }

  public AuditRecord of(Principal principal, AuditEventType type, String apiKeyId, String description,
      Map<String, String> details) {
    return AuditRecord.newBuilder()
        .setId(Ids.random(Ids.AUDIT_RECORD))
        .setOrgId(principal.orgId())
        .setTimestamp(clock.millis())
        .setEventType(type.wireName())
        .setActor(principal.actor())
        .setApiKeyId(apiKeyId)
        .setDescription(description)
        .setDetails(withActorKey(details, principal.adminKeyId()))
        .build();
  }

  private static Map<String, String> withActorKey(Map<String, String> details, String adminKeyId) {
    if (adminKeyId.equals("-")) {
      return Map.copyOf(details);
    }
    Map<String, String> out = new java.util.HashMap<>(details);
    out.put("actor_key_id", adminKeyId);
    return Map.copyOf(out);
  }
}
