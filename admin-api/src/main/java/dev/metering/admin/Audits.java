package dev.metering.admin;

import dev.metering.admin.auth.Principal;
import dev.metering.records.AuditRecord;
import java.time.Clock;
import java.util.Map;
import java.util.UUID;

/** Audit records of the control plane's changes, acted by the calling admin. */
public final class Audits {

  private final Clock clock;

  public Audits(Clock clock) {
    this.clock = clock;
  }

  public AuditRecord of(Principal principal, String type, String apiKeyId, String description,
      Map<String, String> details) {
    return AuditRecord.newBuilder()
        .setId("aud_" + UUID.randomUUID().toString().replace("-", ""))
        .setOrgId(principal.orgId())
        .setTimestamp(clock.millis())
        .setEventType(type)
        .setActor(principal.actor())
        .setApiKeyId(apiKeyId)
        .setDescription(description)
        .setDetails(Map.copyOf(details))
        .build();
  }
}
