package dev.metering.stream.query;

import dev.metering.api.ErrorResponse;
import dev.metering.api.openapi.OpenApi;
import dev.metering.api.openapi.OpenApi.Parameter;
import dev.metering.api.query.CurrentPeriod;
import dev.metering.api.query.Totals;
import dev.metering.api.query.TotalsByKey;
import dev.metering.api.query.UsageParameters;
import dev.metering.api.query.UsageReport;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The query API's endpoints: each one's OpenAPI operation and the query answering it. The server
 * registers exactly these, and /openapi.json describes exactly these.
 */
enum QueryRoute {
  KEY_CURRENT_PERIOD(get("/v1/keys/{api_key_id}/current_period", "getKeyCurrentPeriod",
      "A key's calendar month so far against its limit; 404 for a key with neither a record nor usage",
      List.of(UsageParameters.ALLOW_STALE), CurrentPeriod.class, 404),
      QueryService::currentPeriod),
  KEY_REPORT(get("/v1/keys/{api_key_id}/usage_report", "getKeyUsageReport",
      "A key's usage in 1h or 1d buckets, optionally by model", stale(UsageParameters.report("model")),
      UsageReport.class), QueryService::keyReport),
  KEY_TOTALS(get("/v1/keys/{api_key_id}/usage", "getKeyUsage", "A key's usage over a date range",
      stale(UsageParameters.DATES), Totals.class), QueryService::keyTotals),
  ORG_REPORT(get("/v1/orgs/{org_id}/usage_report", "getOrgUsageReport",
      "An organisation's usage in 1h or 1d buckets, optionally by key (from every instance) or by model",
      stale(UsageParameters.report("api_key_id", "model")), UsageReport.class), QueryService::orgReport),
  ORG_TOTALS(get("/v1/orgs/{org_id}/usage", "getOrgUsage", "An organisation's usage over a date range",
      stale(UsageParameters.DATES), Totals.class), QueryService::orgTotals),
  ORG_TOTALS_BY_KEY(get("/v1/orgs/{org_id}/usage/by_key", "getOrgUsageByKey",
      "An organisation's usage per key over a date range, from every instance", UsageParameters.DATES,
      TotalsByKey.class), QueryService::orgTotalsByKey);

  /** A query: the id in the path and the call answer it. */
  @FunctionalInterface
  interface QueryFunction {
    QueryService.Answer apply(QueryService service, String id, QueryService.Call call);
  }

  private final OpenApi.Operation operation;
  private final QueryFunction function;

  QueryRoute(OpenApi.Operation operation, QueryFunction function) {
    this.operation = operation;
    this.function = function;
  }

  OpenApi.Operation operation() {
    return operation;
  }

  QueryFunction function() {
    return function;
  }

  /** The OpenAPI document of the query API. */
  static Map<String, Object> document() {
    return OpenApi.document(new OpenApi.Info("Token metering query API", "0.1.0", "metering-stream's usage queries:"
            + " an internal API for admin-api and the other instances, answered right whichever instance receives"
            + " them (forwarded to the owner of a key's partition, or fanned out to every instance).",
            "/", "the metering-stream instance serving this document (loopback only by default)"),
        Map.of("serviceToken", Map.of("type", "http", "scheme", "bearer", "description", "METERING_QUERY_TOKEN")),
        ErrorResponse.class, Arrays.stream(values()).map(QueryRoute::operation).toList());
  }

  private static List<Parameter> stale(List<Parameter> parameters) {
    List<Parameter> all = new ArrayList<>(parameters);
    all.add(UsageParameters.ALLOW_STALE);
    return all;
  }

  private static OpenApi.Operation get(String path, String operationId, String summary, List<Parameter> parameters,
      Class<?> response, Integer... moreErrors) {
    List<Integer> errors = new ArrayList<>(List.of(400, 401, 503));
    errors.addAll(List.of(moreErrors));
    return new OpenApi.Operation("GET", path, operationId, summary, "usage", parameters, null, List.of(200), response,
        errors, "serviceToken");
  }
}
