package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.openapi.Nullable;
import dev.metering.api.openapi.OneOf;
import java.time.Instant;
import java.util.List;

/** An API key as the admin API shows it; {@code key} holds the secret only in the answers of create and rotate. */
@JsonClassDescription("an API key")
public record ApiKeyInfo(
    String id,
    @OneOf("api_key") String type,
    String orgId,
    String name,
    @Nullable String description,
    @JsonPropertyDescription("the secret's first characters, to recognise it") String keyPrefix,
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @JsonPropertyDescription("the secret: only in the answers of create and rotate, never again") String key,
    List<String> permissions,
    @Nullable @JsonPropertyDescription("tokens per calendar month (UTC); null for no limit") Long maxTokensPerMonth,
    @Nullable @JsonPropertyDescription("estimated cost per calendar month (UTC) in dollars, a decimal string; null for"
        + " no limit") String maxCostPerMonth,
    @JsonPropertyDescription("suspend the key when a limit (whichever is reached first) is reached") boolean hardLimit,
    @OneOf({"active", "revoked"}) String status,
    Instant createdAt,
    String createdBy,
    @JsonPropertyDescription("the key's version: its ETag, which If-Match names") Instant updatedAt,
    @Nullable @JsonPropertyDescription("until when the secret before the last rotation still works")
    Instant previousKeyExpiresAt,
    @JsonPropertyDescription("whether gateways refuse the key now because it reached its hard limit") boolean suspended,
    @Nullable @JsonPropertyDescription("when a suspension ends by itself (the start of the next UTC month); null when"
        + " not suspended") Instant suspendedUntil) {

  public static final String TYPE = "api_key";
}
