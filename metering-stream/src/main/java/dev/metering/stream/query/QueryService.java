package dev.metering.stream.query;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.query.Freshness;
import dev.metering.api.query.KeyTotals;
import dev.metering.api.query.Totals;
import dev.metering.api.query.TotalsByKey;
import dev.metering.api.query.UsageReport;
import dev.metering.api.query.UsageView;
import dev.metering.keys.ServiceToken;
import dev.metering.stream.usage.KeyUsageProcessor;
import dev.metering.stream.usage.OrgUsageProcessor;
import dev.metering.stream.usage.Progress;
import java.time.Clock;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.state.HostInfo;

/**
 * The usage queries: what each one reads, locally (through {@link LocalQueries}), and how its
 * parts merge; where it is answered is {@link QueryRouter}'s decision, so the answer is right
 * whichever instance receives it.
 */
public final class QueryService {

  /** What a query produced: a body to serialise here, or another instance's response to pass on. */
  public sealed interface Answer {
    record Local(Object body, Map<String, String> headers) implements Answer {
      public Local(Object body) {
        this(body, Map.of());
      }
    }

    record Forwarded(int status, String body, Optional<String> retryAfter) implements Answer {
    }
  }

  /** The request as routing needs it. */
  public record Call(String pathAndQuery, Function<String, String> param, boolean forwarded, boolean localScope) {
  }

  private static final int MAX_TOTALS_DAYS = 400;

  private final LocalQueries local;
  private final Clock clock;
  private final ClosedBuckets closed;
  private final QueryRouter router;
  private final ClosedBucketReports closedReports;

  /**
   * @param lateGrace metering-stream's late grace: buckets further behind every partition's stream time are final
   * @param closedBucketBytes memory for rendered final buckets of org reports by key; 0 renders every bucket every time
   * @param token presented to the other instances when forwarding
   */
  public QueryService(KafkaStreams streams, HostInfo self, int usagePartitions, ObjectMapper json, Clock clock,
      Duration lateGrace, long closedBucketBytes, ServiceToken token) {
    this.local = new LocalQueries(streams);
    this.clock = clock;
    this.closed = new ClosedBuckets(closedBucketBytes, clock);
    long lateGraceMillis = lateGrace.toMillis();
    this.router = new QueryRouter(Cluster.of(streams), self, usagePartitions, new HttpInstanceClient(json, token),
        () -> local.coverage(lateGraceMillis));
    this.closedReports = new ClosedBucketReports(closed, router, json, clock);
  }

  /** Hits and misses of the rendered final buckets, for /metrics. */
  public long closedBucketHits() {
    return closed.hits();
  }

  public long closedBucketMisses() {
    return closed.misses();
  }

  public long closedBucketBytes() {
    return closed.bytes();
  }

  public Answer currentPeriod(String apiKeyId, Call call) {
    String id = ReportRequest.id("api_key_id", apiKeyId);
    boolean allowStale = ReportRequest.bool("allow_stale", call.param().apply("allow_stale"));
    return router.route(KeyUsageProcessor.DAILY_STORE, id, allowStale, call,
        (partition, stale) -> local.currentPeriod(id, partition, stale, clock.instant()));
  }

  public Answer keyReport(String apiKeyId, Call call) {
    String id = ReportRequest.id("api_key_id", apiKeyId);
    ReportRequest request = ReportRequest.parse(call.param(), Set.of("model"), clock.instant());
    return router.route(KeyUsageProcessor.DAILY_STORE, id, request.allowStale(), call, (partition, stale) ->
        local.report(scopeStore(request, false), id, partition, request,
            local.freshness(Progress.INGEST_STORE, partition, stale)));
  }

  public Answer keyTotals(String apiKeyId, Call call) {
    return totals(ReportRequest.id("api_key_id", apiKeyId), false, call);
  }

  public Answer orgReport(String orgId, Call call) {
    String id = ReportRequest.id("org_id", orgId);
    ReportRequest request = ReportRequest.parse(call.param(), Set.of("api_key_id", "model"), clock.instant());
    if ("api_key_id".equals(request.groupBy())) {
      if (closed.enabled() && !call.localScope()) {
        return new Answer.Local(closedReports.orgReportByKey(id, request, call,
            sub -> local.orgReportByKey(scopeStore(sub, false), id, sub)));
      }
      return router.fanOut(call, UsageReport.class,
          () -> local.orgReportByKey(scopeStore(request, false), id, request),
          partials -> ReportAssembly.merge(request, partials));
    }
    return router.route(OrgUsageProcessor.DAILY_STORE, id, request.allowStale(), call, (partition, stale) ->
        local.report(scopeStore(request, true), id, partition, request,
            local.freshness(Progress.ORG_STORE, partition, stale)));
  }

  public Answer orgTotals(String orgId, Call call) {
    return totals(ReportRequest.id("org_id", orgId), true, call);
  }

  /** A key's or an org's totals over a date range, from its daily buckets. */
  private Answer totals(String id, boolean org, Call call) {
    LocalDate[] range = ReportRequest.dateRange(call.param(), MAX_TOTALS_DAYS);
    boolean allowStale = ReportRequest.bool("allow_stale", call.param().apply("allow_stale"));
    String daily = org ? OrgUsageProcessor.DAILY_STORE : KeyUsageProcessor.DAILY_STORE;
    return router.route(daily, id, allowStale, call, (partition, stale) -> {
      Freshness f = local.freshness(org ? Progress.ORG_STORE : Progress.INGEST_STORE, partition, stale);
      UsageView usage = local.totals(daily, id, partition, ReportRequest.startOfDay(range[0]),
          ReportRequest.startOfDay(range[1]), stale);
      return new Totals(org ? id : null, org ? null : id, range[0], range[1], usage, f.asOf(), f.stale());
    });
  }

  public Answer orgTotalsByKey(String orgId, Call call) {
    String id = ReportRequest.id("org_id", orgId);
    LocalDate[] range = ReportRequest.dateRange(call.param(), MAX_TOTALS_DAYS);
    return router.fanOut(call, TotalsByKey.class, () -> {
      Freshness f = local.localFreshness();
      Map<String, UsageView> byKey = local.totalsByKey(KeyUsageProcessor.DAILY_STORE, id,
          ReportRequest.startOfDay(range[0]), ReportRequest.startOfDay(range[1]));
      List<KeyTotals> data = new ArrayList<>();
      byKey.forEach((key, usage) -> data.add(new KeyTotals(key, usage)));
      return new TotalsByKey(id, range[0], range[1], data, f.asOf(), f.stale());
    }, partials -> {
      Map<String, UsageView> merged = new TreeMap<>();
      Freshness f = null;
      for (TotalsByKey partial : partials) {
        partial.data().forEach(k -> merged.merge(k.apiKeyId(), k.usage(), UsageView::plus));
        Freshness pf = new Freshness(partial.asOf(), partial.stale());
        f = f == null ? pf : Freshness.min(f, pf);
      }
      List<KeyTotals> data = new ArrayList<>();
      merged.forEach((key, usage) -> data.add(new KeyTotals(key, usage)));
      return new TotalsByKey(id, range[0], range[1], data, f == null ? null : f.asOf(), f != null && f.stale());
    });
  }

  private static String scopeStore(ReportRequest request, boolean org) {
    boolean hourly = request.width() == BucketWidth.HOUR;
    if (org) {
      return hourly ? OrgUsageProcessor.HOURLY_STORE : OrgUsageProcessor.DAILY_STORE;
    }
    return hourly ? KeyUsageProcessor.HOURLY_STORE : KeyUsageProcessor.DAILY_STORE;
  }
}
