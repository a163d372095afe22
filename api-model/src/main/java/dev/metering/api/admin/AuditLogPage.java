package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.openapi.Nullable;
import java.util.List;

/** A page of the audit log, newest first. */
@JsonClassDescription("a page of the audit log, newest first")
public record AuditLogPage(
    List<AuditLogEntry> data,
    boolean hasMore,
    @Nullable @JsonPropertyDescription("pass as page for the next page") String nextPage) {
}
