package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A new alert rule: a threshold on one key's monthly limit, told by email, webhook or both. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CreateAlert(
    @JsonProperty(required = true) String name,
    @JsonProperty(required = true) @JsonPropertyDescription("an API key of the organisation") String keyId,
    @JsonProperty(required = true) @JsonPropertyDescription("1 to 100, of the key's max_tokens_per_month")
    Integer thresholdPercent,
    String notificationEmail,
    @JsonPropertyDescription("https; private and loopback addresses are refused") String webhookUrl) {
}
