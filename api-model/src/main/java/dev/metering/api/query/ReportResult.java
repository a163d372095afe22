package dev.metering.api.query;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/** One group's usage in a bucket; api_key_id or model is present when grouped by it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ReportResult(String apiKeyId, String model, @JsonProperty(required = true) UsageView usage) {
}
