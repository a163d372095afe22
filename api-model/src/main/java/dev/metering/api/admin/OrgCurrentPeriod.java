package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.openapi.Nullable;
import dev.metering.api.query.Projection;
import dev.metering.api.query.UsageView;
import java.time.Instant;

/** The organisation's calendar month so far and where it is heading. */
@JsonClassDescription("the organisation's calendar month (UTC) so far and its projected end")
public record OrgCurrentPeriod(
    String orgId,
    @JsonPropertyDescription("yyyy-MM") String period,
    UsageView usage,
    @JsonPropertyDescription("the month's end at its daily rate so far") Projection projected,
    @Nullable @JsonPropertyDescription("the event time the numbers include; null before any usage") Instant asOf) {
}
