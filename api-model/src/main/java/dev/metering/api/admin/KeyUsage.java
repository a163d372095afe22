package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.openapi.Nullable;
import dev.metering.api.query.UsageView;
import java.math.BigDecimal;

/** One key's tokens and estimated cost over a date range. */
public record KeyUsage(
    String apiKeyId,
    @Nullable @JsonPropertyDescription("null for a key no longer known") String keyName,
    long totalInputTokens,
    long totalOutputTokens,
    long totalCacheCreationInputTokens,
    long totalCacheReadInputTokens,
    long totalTokens,
    long requests,
    BigDecimal estimatedCost,
    long costMicros) {

  /** The query API's usage of one key under the article's names. */
  public static KeyUsage of(String apiKeyId, String keyName, UsageView u) {
    return new KeyUsage(apiKeyId, keyName, u.inputTokens(), u.outputTokens(), u.cacheCreationInputTokens(),
        u.cacheReadInputTokens(), u.totalTokens(), u.requests(), u.estimatedCost(), u.costMicros());
  }
}
