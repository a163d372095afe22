package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.openapi.Nullable;
import dev.metering.api.openapi.OneOf;
import java.time.Instant;
import java.util.Map;

/** One audit record. */
public record AuditLogEntry(
    String id,
    Instant timestamp,
    @OneOf({"key_created", "key_updated", "permission_changed", "limit_changed", "key_revoked", "key_rotated",
        "key_suspended", "key_reinstated", "alert_created", "alert_deleted", "alert_secret_rotated",
        "threshold_crossed", "limit_breached", "usage_spike", "alert_delivered", "alert_delivery_failed", "budget_changed",
        "org_suspended", "org_reinstated"})
    String eventType,
    @JsonPropertyDescription("the admin's email, or system:<service> for the services") String actor,
    @Nullable String apiKeyId,
    String description,
    Map<String, String> details) {
}
