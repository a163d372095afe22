package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Changes to the organisation's budget: a field left out stays as it is; {@code null} removes a budget. */
@JsonClassDescription("the budget fields to change; a field left out stays as it is")
@JsonInclude(JsonInclude.Include.NON_NULL)
public record UpdateOrgBudget(
    @JsonPropertyDescription("null removes the token budget") Long maxTokensPerMonth,
    @JsonPropertyDescription("dollars, a decimal string such as \"250.00\"; null removes the cost budget")
    String maxCostPerMonth,
    Boolean hardLimit) {
}
