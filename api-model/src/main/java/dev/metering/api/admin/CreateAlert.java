package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * A new alert rule: a threshold on one key's monthly limits, or without a key on the organisation's
 * budget, told by email, webhook or both.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CreateAlert(
    @JsonProperty(required = true) String name,
    @JsonPropertyDescription("an API key of the organisation; leave it out for a rule on the organisation's budget")
    String keyId,
    @JsonProperty(required = true) @JsonPropertyDescription("1 to 100, of each monthly limit (tokens, cost) of the key"
        + " or of the organisation's budget")
    Integer thresholdPercent,
    String notificationEmail,
    @JsonPropertyDescription("https; private and loopback addresses are refused") String webhookUrl) {
}
