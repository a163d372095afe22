package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import dev.metering.api.openapi.OneOf;

/** The answer to a deletion. */
@JsonClassDescription("the rule deleted")
public record DeletedAlert(String id, @OneOf("alert_deleted") String type) {
}
