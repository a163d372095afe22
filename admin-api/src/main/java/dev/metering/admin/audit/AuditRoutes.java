package dev.metering.admin.audit;

import dev.metering.schemas.AuditEventType;
import dev.metering.admin.auth.Principal;
import dev.metering.admin.http.ApiError;
import dev.metering.admin.http.Route;
import dev.metering.records.AuditRecord;
import dev.metering.schemas.QueryTimes;
import dev.metering.api.admin.AuditLogEntry;
import dev.metering.api.admin.AuditLogPage;
import dev.metering.api.openapi.OpenApi.Parameter;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/** The organisation's audit log: by date range and event types, newest first, paged. */
public final class AuditRoutes {

  static final Set<String> EVENT_TYPES = java.util.Arrays.stream(AuditEventType.values())
      .map(AuditEventType::wireName).collect(java.util.stream.Collectors.toUnmodifiableSet());

  private final AuditLogReader reader;

  public AuditRoutes(AuditLogReader reader) {
    this.reader = reader;
  }

  public List<Route> routes() {
    return List.of(Route.get("audit_logs", "/v1/organizations/audit_logs", "listAuditLogs",
        "Audit records of the organisation, newest first; start_date and end_date are included", List.of(
            Parameter.required("start_date", LocalDate.class, "the first day (UTC), included"),
            Parameter.required("end_date", LocalDate.class, "the last day (UTC), included; at most 400 days after"),
            Parameter.optional("event_types", String.class, "comma-separated event types; default all"),
            Parameter.optional("limit", Integer.class, "records per page, 1 to 1000; default 50"),
            Parameter.optional("page", String.class, "the next_page of the previous page")),
        AuditLogPage.class, this::list));
  }

  private AuditLogPage list(Context ctx, Principal principal) {
    LocalDate start = date("start_date", ctx.queryParam("start_date"));
    LocalDate end = date("end_date", ctx.queryParam("end_date"));
    if (end.isBefore(start)) {
      throw ApiError.invalid("end_date", "end_date must not be before start_date");
    }
    if (start.plusDays(400).isBefore(end)) {
      throw ApiError.invalid("end_date", "a date range spans at most 400 days");
    }
    Set<String> types = Set.of();
    String typesParam = ctx.queryParam("event_types");
    if (typesParam != null && !typesParam.isBlank()) {
      List<String> named = List.of(typesParam.split(","));
      types = new java.util.LinkedHashSet<>(named);
      if (types.size() < named.size()) {
        throw ApiError.invalid("event_types", "event_types names a type more than once: " + typesParam);
      }
      for (String type : types) {
        if (!EVENT_TYPES.contains(type)) {
          throw ApiError.invalid("event_types", "unknown event type " + type + "; known: " + new java.util.TreeSet<>(EVENT_TYPES));
        }
      }
    }
    int limit = dev.metering.admin.http.Params.limit(ctx.queryParam("limit"), 50, 1000);
    Long before = page(ctx.queryParam("page"));
    AuditLogReader.Page page = reader.read(principal.orgId(), start.atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli(),
        end.plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli(), types, limit, before);
    return new AuditLogPage(page.records().stream().map(AuditRoutes::view).toList(), page.nextBefore() != null,
        page.nextBefore() == null ? null : Base64.getUrlEncoder().withoutPadding()
            .encodeToString(page.nextBefore().toString().getBytes(StandardCharsets.US_ASCII)));
  }

  private static AuditLogEntry view(AuditRecord record) {
    return new AuditLogEntry(record.getId(), Instant.ofEpochMilli(record.getTimestamp()), record.getEventType(),
        record.getActor(), record.getApiKeyId(), record.getDescription(), new TreeMap<>(record.getDetails()));
  }

  private static LocalDate date(String field, String value) {
    return QueryTimes.date(field, value, ApiError::invalid);
  }

  private static Long page(String token) {
    if (token == null || token.isBlank()) {
      return null;
    }
    try {
      return Long.parseLong(new String(Base64.getUrlDecoder().decode(token), StandardCharsets.US_ASCII));
    } catch (IllegalArgumentException e) {
      throw ApiError.invalid("page", "page is not a next_page token of this list");
    }
  }
}
