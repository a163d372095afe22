package dev.metering.admin.usage;

import dev.metering.admin.TopicTable;
import dev.metering.api.Dollars;
import dev.metering.api.query.Percent;
import dev.metering.records.OrgBudget;
import dev.metering.admin.auth.Principal;
import dev.metering.admin.http.ApiError;
import dev.metering.admin.http.Route;
import dev.metering.admin.keys.KeyStore;
import dev.metering.api.admin.KeyUsage;
import dev.metering.api.admin.OrgCurrentPeriod;
import dev.metering.api.admin.UsageByKey;
import dev.metering.api.admin.UsageSummary;
import dev.metering.api.openapi.OpenApi.Parameter;
import dev.metering.api.query.CurrentPeriod;
import dev.metering.api.query.Projection;
import dev.metering.api.query.Totals;
import dev.metering.api.query.TotalsByKey;
import dev.metering.api.query.UsageParameters;
import dev.metering.api.query.UsageReport;
import dev.metering.api.query.UsageView;
import dev.metering.records.ApiKey;
import io.javalin.http.Context;
import java.net.URLEncoder;
import java.time.Clock;
import java.time.Instant;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Usage and estimated cost of the caller's organisation, answered by metering-stream. */
public final class UsageRoutes {

  private static final String TAG = "usage";
  private static final List<Parameter> DATES = UsageParameters.DATES;
  private static final List<Parameter> REPORT_PARAMS = UsageParameters.report("api_key_id", "model");
  private static final List<Parameter> KEY_REPORT_PARAMS = UsageParameters.report("model");

  private final MeteringClient metering;
  private final KeyStore keys;
  private final TopicTable<OrgBudget> budgets;
  private final Clock clock;

  public UsageRoutes(MeteringClient metering, KeyStore keys, TopicTable<OrgBudget> budgets, Clock clock) {
    this.budgets = budgets;
    this.metering = metering;
    this.keys = keys;
    this.clock = clock;
  }

  public List<Route> routes() {
    return List.of(
        Route.get(TAG, "/v1/organizations/usage", "getUsage",
            "Total tokens and estimated cost of the organisation over a date range", DATES, UsageSummary.class,
            this::totals),
        Route.get(TAG, "/v1/organizations/current_period", "getCurrentPeriod",
            "The organisation's calendar month so far against its budget, and its end at the daily rate so far",
            List.of(),
            OrgCurrentPeriod.class, this::orgCurrentPeriod),
        Route.get(TAG, "/v1/organizations/usage/by_key", "getUsageByKey",
            "Total tokens and estimated cost per API key over a date range", DATES, UsageByKey.class, this::byKey),
        Route.getStreamed(TAG, "/v1/organizations/usage_report", "getUsageReport",
            "Usage in 1h or 1d buckets, optionally grouped by api_key_id or model", REPORT_PARAMS, UsageReport.class,
            this::report),
        Route.get(TAG, "/v1/organizations/api_keys/{api_key_id}/current_period", "getApiKeyCurrentPeriod",
            "One API key's calendar month so far: usage against its token and cost limits, and the month's end at its"
                + " daily rate", List.of(), CurrentPeriod.class, this::currentPeriod),
        Route.getStreamed(TAG, "/v1/organizations/api_keys/{api_key_id}/usage_report", "getApiKeyUsageReport",
            "One API key's usage in 1h or 1d buckets, optionally grouped by model", KEY_REPORT_PARAMS,
            UsageReport.class, this::keyReport));
  }

  private UsageSummary totals(Context ctx, Principal principal) {
    Totals answer = metering.get(principal.orgId(), "/v1/orgs/" + principal.orgId() + "/usage", dates(ctx),
        Totals.class);
    return UsageSummary.of(answer.startDate(), answer.endDate(), answer.usage(), answer.asOf());
  }

  private OrgCurrentPeriod orgCurrentPeriod(Context ctx, Principal principal) {
    Instant now = clock.instant();
    YearMonth month = YearMonth.from(now.atZone(ZoneOffset.UTC));
    Totals answer = metering.get(principal.orgId(), "/v1/orgs/" + principal.orgId() + "/usage", Map.of("start_date",
        month.atDay(1).toString(), "end_date", now.atZone(ZoneOffset.UTC).toLocalDate().toString()), Totals.class);
    UsageView usage = answer.usage();
    OrgBudget budget = budgets.get(principal.orgId()).orElse(null);
    Long tokens = budget == null ? null : budget.getMaxTokensPerMonth();
    Long cost = budget == null ? null : budget.getMaxCostMicrosPerMonth();
    return new OrgCurrentPeriod(principal.orgId(), month.toString(), usage, tokens,
        Percent.of(usage.totalTokens(), tokens), cost, cost == null ? null : Dollars.format(cost),
        Percent.of(usage.costMicros(), cost), budget != null && budget.getHardLimit(),
        keys.orgSuspension(principal.orgId(), now.toEpochMilli()).isPresent(),
        Projection.monthEnd(month, usage.totalTokens(), usage.costMicros(), now), answer.asOf());
  }

  private UsageByKey byKey(Context ctx, Principal principal) {
    TotalsByKey answer = metering.get(principal.orgId(), "/v1/orgs/" + principal.orgId() + "/usage/by_key", dates(ctx),
        TotalsByKey.class);
    List<KeyUsage> data = answer.data().stream().map(entry -> KeyUsage.of(entry.apiKeyId(),
        keys.get(entry.apiKeyId()).map(ApiKey::getName).orElse(null), entry.usage())).toList();
    return new UsageByKey(answer.startDate(), answer.endDate(), data, answer.asOf());
  }

  private java.io.InputStream report(Context ctx, Principal principal) {
    // passed through as it arrives: a report grouped by key is tens of megabytes for a large org
    return metering.stream(principal.orgId(), "/v1/orgs/" + principal.orgId() + "/usage_report",
        params(ctx, REPORT_PARAMS));
  }

  private java.io.InputStream keyReport(Context ctx, Principal principal) {
    return metering.stream(principal.orgId(), ownedKeyPath(ctx, principal) + "/usage_report",
        params(ctx, KEY_REPORT_PARAMS));
  }

  private CurrentPeriod currentPeriod(Context ctx, Principal principal) {
    String path = ownedKeyPath(ctx, principal);
    try {
      return metering.get(principal.orgId(), path + "/current_period", Map.of(), CurrentPeriod.class);
    } catch (ApiError unknown) {
      if (unknown.status() != 404) {
        throw unknown;
      }
      // the key is the caller's (ownedKeyPath): metering-stream has not read it yet, having neither its
      // record nor any usage of it (the key was just made, or metering-stream is catching up after a
      // restart); "no such key" would be false, and a month of zero may be too
      throw new ApiError(503, "unavailable_error", "the usage service has not read API key "
          + ctx.pathParam("api_key_id") + " yet (it was just created, or the service is catching up); retry shortly",
          null);
    }
  }

  /** metering-stream's path of the key the request names, if it is one of the caller's organisation. */
  private String ownedKeyPath(Context ctx, Principal principal) {
    String id = ctx.pathParam("api_key_id");
    // another organisation's key is answered exactly like a key that does not exist
    keys.owned(principal.orgId(), id).orElseThrow(() -> ApiError.notFound("no API key " + id));
    return "/v1/keys/" + URLEncoder.encode(id, StandardCharsets.UTF_8);
  }

  private static Map<String, String> params(Context ctx, List<Parameter> parameters) {
    Map<String, String> params = new LinkedHashMap<>();
    parameters.forEach(p -> params.put(p.name(), ctx.queryParam(p.name())));
    return params;
  }

  private static Map<String, String> dates(Context ctx) {
    return params(ctx, DATES);
  }
}
