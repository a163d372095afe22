package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.api.openapi.Nullable;
import java.util.List;

/** A page of API keys, newest first; the next page starts after {@code last_id}. */
@JsonClassDescription("a page of API keys, newest first")
public record ApiKeyList(
    List<ApiKeyInfo> data,
    boolean hasMore,
    @Nullable String firstId,
    @Nullable @JsonPropertyDescription("pass as after_id for the next page") String lastId) {
}
