package dev.metering.admin.usage;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.admin.auth.Principal;
import dev.metering.admin.http.Route;
import dev.metering.admin.keys.KeyStore;
import dev.metering.records.ApiKey;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Usage and estimated cost of the caller's organisation, answered by metering-stream. */
public final class UsageRoutes {

  private static final List<String> REPORT_PARAMS =
      List.of("starting_at", "ending_at", "bucket_width", "group_by", "limit", "page");

  private final MeteringClient metering;
  private final KeyStore keys;

  public UsageRoutes(MeteringClient metering, KeyStore keys) {
    this.metering = metering;
    this.keys = keys;
  }

  public List<Route> routes() {
    return List.of(
        Route.get("/v1/organizations/usage", "Total tokens and estimated cost of the organisation over a date range",
            List.of("start_date", "end_date"), this::totals),
        Route.get("/v1/organizations/usage/by_key", "Total tokens and estimated cost per API key over a date range",
            List.of("start_date", "end_date"), this::byKey),
        Route.get("/v1/organizations/usage_report", "Usage in 1h or 1d buckets, optionally grouped by api_key_id or model",
            REPORT_PARAMS, this::report));
  }

  private Object totals(Context ctx, Principal principal) {
    JsonNode answer = metering.get("/v1/orgs/" + principal.orgId() + "/usage", dates(ctx));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("start_date", answer.get("start_date").asText());
    out.put("end_date", answer.get("end_date").asText());
    out.putAll(totals(answer.get("usage")));
    out.put("as_of", answer.get("as_of").isNull() ? null : answer.get("as_of").asText());
    return out;
  }

  private Object byKey(Context ctx, Principal principal) {
    JsonNode answer = metering.get("/v1/orgs/" + principal.orgId() + "/usage/by_key", dates(ctx));
    List<Map<String, Object>> data = new ArrayList<>();
    for (JsonNode entry : answer.get("data")) {
      String keyId = entry.get("api_key_id").asText();
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("api_key_id", keyId);
      row.put("key_name", keys.get(keyId).map(ApiKey::getName).orElse(null));
      row.putAll(totals(entry.get("usage")));
      data.add(row);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("start_date", answer.get("start_date").asText());
    out.put("end_date", answer.get("end_date").asText());
    out.put("data", data);
    out.put("as_of", answer.get("as_of").isNull() ? null : answer.get("as_of").asText());
    return out;
  }

  private Object report(Context ctx, Principal principal) {
    Map<String, String> params = new LinkedHashMap<>();
    REPORT_PARAMS.forEach(name -> params.put(name, ctx.queryParam(name)));
    // passed through as it arrives: a report grouped by key is tens of megabytes for a large org
    return metering.stream("/v1/orgs/" + principal.orgId() + "/usage_report", params);
  }

  private static Map<String, String> dates(Context ctx) {
    Map<String, String> params = new LinkedHashMap<>();
    params.put("start_date", ctx.queryParam("start_date"));
    params.put("end_date", ctx.queryParam("end_date"));
    return params;
  }

  /** The article's names: total_input_tokens, total_output_tokens, total_tokens, estimated_cost. */
  private static Map<String, Object> totals(JsonNode usage) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("total_input_tokens", usage.get("input_tokens").asLong());
    out.put("total_output_tokens", usage.get("output_tokens").asLong());
    out.put("total_cache_creation_input_tokens", usage.get("cache_creation_input_tokens").asLong());
    out.put("total_cache_read_input_tokens", usage.get("cache_read_input_tokens").asLong());
    out.put("total_tokens", usage.get("total_tokens").asLong());
    out.put("requests", usage.get("requests").asLong());
    out.put("estimated_cost", usage.get("estimated_cost").decimalValue());
    out.put("cost_micros", usage.get("cost_micros").asLong());
    return out;
  }
}
