package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import java.util.List;

/** The organisation's alert rules. */
@JsonClassDescription("the organisation's alert rules")
public record AlertList(List<AlertInfo> data) {
}
