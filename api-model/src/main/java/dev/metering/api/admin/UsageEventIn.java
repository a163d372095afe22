package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One LLM call's usage, as a gateway reports it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record UsageEventIn(
    @JsonProperty(required = true) @JsonPropertyDescription("unique per call: a retry with the same id counts once")
    String eventId,
    @JsonProperty(required = true) String apiKeyId,
    @JsonProperty(required = true) String model,
    @JsonProperty(required = true) Long inputTokens,
    @JsonProperty(required = true) Long outputTokens,
    Long cacheCreationInputTokens,
    Long cacheReadInputTokens,
    @JsonPropertyDescription("epoch milliseconds of the call; default now") Long timestamp,
    String requestId,
    @JsonPropertyDescription("if given, the authenticated gateway's id") String gatewayId) {
}
