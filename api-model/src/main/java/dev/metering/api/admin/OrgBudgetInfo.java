package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.openapi.Nullable;
import dev.metering.api.openapi.OneOf;
import java.time.Instant;

/** The organisation's monthly budget over all its keys, and whether it has suspended the org. */
@JsonClassDescription("the organisation's monthly budget over all its keys")
public record OrgBudgetInfo(
    @OneOf("org_budget") String type,
    String orgId,
    @Nullable @JsonPropertyDescription("tokens per calendar month (UTC) over every key; null for none")
    Long maxTokensPerMonth,
    @Nullable @JsonPropertyDescription("dollars per calendar month, a decimal string; null for none")
    String maxCostPerMonth,
    @JsonPropertyDescription("reaching either budget suspends every key of the organisation but its admin keys until"
        + " the month ends or the budget is raised") boolean hardLimit,
    @JsonPropertyDescription("true while a hard budget has suspended the organisation's keys") boolean suspended,
    @Nullable Instant suspendedUntil,
    @Nullable @JsonPropertyDescription("the admin who last changed it; null if it was never set") String updatedBy,
    @Nullable Instant updatedAt) {

  public static final String TYPE = "org_budget";
}
