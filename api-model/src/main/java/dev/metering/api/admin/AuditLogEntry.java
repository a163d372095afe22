package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.openapi.Nullable;
import java.time.Instant;
import java.util.Map;

/** One audit record. */
public record AuditLogEntry(
    String id,
    Instant timestamp,
    @JsonPropertyDescription("key_created, key_updated, key_rotated, key_revoked, key_suspended, key_unsuspended,"
        + " limit_reached, alert_created, alert_deleted, alert_secret_rotated, alert_sent, ...") String eventType,
    @JsonPropertyDescription("the admin's email, or system:<service> for the services") String actor,
    @Nullable String apiKeyId,
    String description,
    Map<String, String> details) {
}
