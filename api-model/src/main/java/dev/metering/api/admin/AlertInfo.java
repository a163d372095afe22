package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.openapi.Nullable;
import dev.metering.api.openapi.OneOf;
import java.time.Instant;

/** An alert rule; {@code webhook_secret} holds its signing secret only in the answers of create and rotate_secret. */
@JsonClassDescription("an alert rule")
public record AlertInfo(
    String id,
    @OneOf("alert") String type,
    String name,
    @Nullable @JsonPropertyDescription("the key whose limits it watches; null for a rule on the organisation's budget")
    String keyId,
    int thresholdPercent,
    @Nullable String notificationEmail,
    @Nullable @JsonPropertyDescription("scheme, host and port only: the path often holds a secret") String webhookUrl,
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyDescription("the webhook's signing secret (Standard Webhooks): only in the answers of create and"
        + " rotate_secret") String webhookSecret,
    String createdBy,
    Instant createdAt) {

  public static final String TYPE = "alert";
}
