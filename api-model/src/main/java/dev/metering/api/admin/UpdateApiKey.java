package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** Changes to an API key: a field left out stays as it is; {@code null} clears a description or a limit. */
@JsonClassDescription("the fields to change; a field left out stays as it is")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record UpdateApiKey(
    String name,
    @JsonPropertyDescription("null clears it") String description,
    List<String> permissions,
    @JsonPropertyDescription("null removes the limit") Long maxTokensPerMonth,
    @JsonPropertyDescription("dollars, a decimal string such as \"12.50\"; null removes the limit") String maxCostPerMonth,
    Boolean hardLimit) {
}
