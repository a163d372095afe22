package dev.metering.api.query;

/** One key's usage in a {@link TotalsByKey}. */
public record KeyTotals(String apiKeyId, UsageView usage) {
}
