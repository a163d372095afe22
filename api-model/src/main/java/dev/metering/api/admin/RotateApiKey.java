package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A rotation: how long the old secret keeps working. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RotateApiKey(@JsonPropertyDescription("seconds the old secret keeps working; default 0")
    Long gracePeriodSeconds) {
}
