package dev.metering.api.query;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.openapi.Nullable;
import java.time.Instant;

/** A key's calendar month so far against its limit. */
@JsonClassDescription("the key's calendar month (UTC) so far against its limit")
public record CurrentPeriod(
    String apiKeyId,
    @Nullable String orgId,
    @JsonPropertyDescription("yyyy-MM") String period,
    UsageView usage,
    @Nullable Long limitTokens,
    @Nullable Double percentUsed,
    boolean hardLimit,
    boolean breached,
    String status,
    @Nullable Instant asOf,
    @JsonPropertyDescription("true when read from a standby or restoring copy") boolean stale) {
}
