package dev.metering.client;

import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;

/** What the admin API returns, as records (JSON snake_case maps onto these camelCase components). */
public final class Models {

  private Models() {
  }

  /** An API key; {@code key} holds the secret only in the answers of create and rotate. */
  public record ApiKeyInfo(String id, String orgId, String name, String description, String keyPrefix, String key,
      List<String> permissions, Long maxTokensPerMonth, boolean hardLimit, String status, Instant createdAt,
      String createdBy, Instant updatedAt, Instant previousKeyExpiresAt) {
  }

  public record UsageSummary(LocalDate startDate, LocalDate endDate, long totalInputTokens, long totalOutputTokens,
      long totalCacheCreationInputTokens, long totalCacheReadInputTokens, long totalTokens, long requests,
      BigDecimal estimatedCost, long costMicros, Instant asOf) {
  }

  public record KeyUsage(String apiKeyId, String keyName, long totalInputTokens, long totalOutputTokens,
      long totalCacheCreationInputTokens, long totalCacheReadInputTokens, long totalTokens, long requests,
      BigDecimal estimatedCost, long costMicros) {
  }

  /** An alert rule; {@code webhookSecret} holds its signing secret only in the answers of create and rotate_secret. */
  public record AlertInfo(String id, String name, String keyId, int thresholdPercent, String notificationEmail,
      String webhookUrl, String webhookSecret, String createdBy, Instant createdAt) {
  }

  public record AuditLogEntry(String id, Instant timestamp, String eventType, String actor, String apiKeyId,
      String description, Map<String, String> details) {
  }

  record Page<T>(List<T> data, boolean hasMore, String lastId, String nextPage) {
  }

  record ByKey(List<KeyUsage> data) {
  }

  record Alerts(List<AlertInfo> data) {
  }
}
