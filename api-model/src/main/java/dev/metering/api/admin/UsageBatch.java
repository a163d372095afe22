package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** Usage reported by a gateway over HTTP: up to 1,000 events, each checked and answered on its own. */
public record UsageBatch(@JsonProperty(required = true) @JsonPropertyDescription("1 to 1000 events")
    List<UsageEventIn> events) {
}
