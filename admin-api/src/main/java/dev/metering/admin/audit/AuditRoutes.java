package dev.metering.admin.audit;

import dev.metering.schemas.AuditEventType;
import dev.metering.admin.auth.Principal;
import dev.metering.admin.http.ApiError;
import dev.metering.admin.http.Route;
import dev.metering.records.AuditRecord;
import dev.metering.schemas.QueryTimes;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    return List.of(Route.get("/v1/organizations/audit_logs",
        "Audit records of the organisation, newest first; start_date and end_date are included",
        List.of("start_date", "end_date", "event_types", "limit", "page"), this::list));
  }

  private Object list(Context ctx, Principal principal) {
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
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("data", page.records().stream().map(AuditRoutes::view).toList());
    out.put("has_more", page.nextBefore() != null);
    out.put("next_page", page.nextBefore() == null ? null
        : Base64.getUrlEncoder().withoutPadding().encodeToString(page.nextBefore().toString().getBytes(StandardCharsets.US_ASCII)));
    return out;
  }

  private static Map<String, Object> view(AuditRecord record) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", record.getId());
    out.put("timestamp", Instant.ofEpochMilli(record.getTimestamp()).toString());
    out.put("event_type", record.getEventType());
    out.put("actor", record.getActor());
    out.put("api_key_id", record.getApiKeyId());
    out.put("description", record.getDescription());
    out.put("details", new TreeMap<>(record.getDetails()));
    return out;
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
