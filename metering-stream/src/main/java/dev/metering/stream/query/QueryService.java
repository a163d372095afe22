package dev.metering.stream.query;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.query.Freshness;
import dev.metering.api.query.KeyTotals;
import dev.metering.api.query.ReportResult;
import dev.metering.api.query.Totals;
import dev.metering.api.query.TotalsByKey;
import dev.metering.api.query.UsageReport;
import dev.metering.api.query.UsageView;
import dev.metering.keys.ServiceToken;
import dev.metering.stream.RunningTasks;
import dev.metering.stream.usage.KeyUsageProcessor;
import dev.metering.stream.usage.OrgUsageProcessor;
import dev.metering.stream.usage.Periods;
import dev.metering.stream.usage.Progress;
import dev.metering.stream.usage.SourceWatermarks;
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
import java.util.function.Supplier;
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
  private final QueryRouter router;
  private final ObjectMapper json;
  private final SealedDays sealedDays;
  private final long dailyRetentionMillis;

  /**
   * @param readable which store partitions are whole here: an active task being restored is not
   * @param token presented to the other instances when forwarding
   * @param dailyRetention how long the org task keeps each key's days (days within it are never expired)
   * @param sealedDayBytes memory for org days kept rendered once they are sealed; 0 renders every day every time
   */
  public QueryService(KafkaStreams streams, RunningTasks.Readable readable, HostInfo self, int usagePartitions,
      ObjectMapper json, Clock clock, ServiceToken token, Duration dailyRetention, long sealedDayBytes) {
    this.local = new LocalQueries(streams, readable);
    this.clock = clock;
    this.json = json;
    this.sealedDays = new SealedDays(sealedDayBytes);
    this.dailyRetentionMillis = dailyRetention.toMillis();
    this.router = new QueryRouter(Cluster.of(streams), self, usagePartitions, new HttpInstanceClient(json, token),
        local::coverage, local::tasksClosed);
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
    if (request.byKey()) {
      return orgReportByKey(id, request, call);
    }
    return router.route(OrgUsageProcessor.DAILY_STORE, id, request.allowStale(), call, (partition, stale) ->
        local.report(scopeStore(request, true), id, partition, request,
            local.freshness(Progress.ORG_STORE, partition, stale)));
  }

  /**
   * An org's report by key, a page of keys at a time: in days from its org task's
   * {@link OrgKeyTotals}, one partition, on the instance where it is active. Hours, and days from
   * before those totals were kept (after an upgrade), are read the old way, from every key's
   * buckets on every instance, and cut into the same pages.
   */
  private Answer orgReportByKey(String id, ReportRequest request, Call call) {
    return fromOrgPartition(id, request.allowStale(), call, UsageReport.class,
        () -> local.orgReportByKey(scopeStore(request, false), id, request),
        partials -> {
          UsageReport all = ReportAssembly.merge(request, partials);
          return ReportAssembly.keyPage(request, ReportAssembly.byKeyAfter(all, request.afterKey()),
              new Freshness(all.asOf(), all.stale()));
        },
        (partition, stale) -> request.width() == BucketWidth.DAY
            && local.orgKeyTotalsCover(partition, request.pageStart().toEpochMilli(), stale)
            ? orgKeyPage(id, partition, request, stale)
            : null);
  }

  /**
   * A page of an org's report by key from its org task's {@link OrgKeyTotals}: sealed days (see
   * {@link SealedDays}) as kept rendered, read and rendered whole the first time, with their keys
   * merged into one list for the page's walk; the other days read a page's worth of keys each
   * time. The freshness is read before the days, so as_of never claims more than was read.
   */
  private RenderedReport orgKeyPage(String orgId, int partition, ReportRequest request, boolean stale) {
    long mark = router.closesMark();
    Freshness freshness = local.freshness(Progress.ORG_STORE, partition, stale);
    boolean keep = !stale && sealedDays.enabled();
    long sealedThrough = keep ? local.orgProgress(partition, SourceWatermarks.SEALED_THROUGH, false) : Long.MIN_VALUE;
    long streamTime = local.orgProgress(partition, Progress.STREAM_TIME, stale);
    // days from here on are within the retention of the org task's stream time: never expired yet
    long retained = streamTime == Long.MIN_VALUE ? Long.MAX_VALUE : streamTime - dailyRetentionMillis;
    String after = request.afterKey();
    TreeMap<Long, SealedDays.Day> sealed = new TreeMap<>();
    List<Long> open = new ArrayList<>();
    for (long start = request.pageStart().toEpochMilli(); start < request.pageEnd().toEpochMilli();
        start += Periods.DAY_MILLIS) {
      if (start + Periods.DAY_MILLIS <= sealedThrough && start >= retained) {
        SealedDays.Day day = sealedDays.get(orgId, start);
        if (day == null) {
          day = renderDay(orgId, partition, start);
          // kept until evicted: never a day read from a store wiped meanwhile
          router.requireNoCloseSince(mark, "an org day");
          sealedDays.put(orgId, start, day);
        }
        sealed.put(start, day);
      } else {
        open.add(start);
      }
    }
    List<String> sealedKeys = sealed.isEmpty() ? List.of() : sealedDays.keys(orgId, sealed.firstKey(), sealed.lastKey(),
        () -> ReportAssembly.union(sealed.values().stream().map(SealedDays.Day::keys).toList()));
    // an open day need not offer keys the sealed days alone put past the page
    String upTo = ReportAssembly.openDaysBound(sealedKeys, after, request.limit());
    List<ReportAssembly.DayResults<ReportResult>> readNow = new ArrayList<>(open.size());
    for (long start : open) {
      List<String> keys = new ArrayList<>();
      List<ReportResult> results = new ArrayList<>();
      local.orgDay(orgId, partition, start, after, upTo, request.limit() + 1, stale, (key, usage) -> {
        keys.add(key);
        results.add(new ReportResult(key, null, usage));
      });
      readNow.add(new ReportAssembly.DayResults<>(start, keys, results, 0));
    }
    return ReportAssembly.orgPage(request, sealed, sealedKeys, readNow, freshness);
  }

  private SealedDays.Day renderDay(String orgId, int partition, long dayStart) {
    List<String> keys = new ArrayList<>();
    List<byte[]> results = new ArrayList<>();
    local.orgDay(orgId, partition, dayStart, null, null, Integer.MAX_VALUE, false, (key, usage) -> {
      keys.add(key);
      try {
        results.add(json.writeValueAsBytes(new ReportResult(key, null, usage)));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("cannot render the usage of " + key, e);
      }
    });
    return SealedDays.Day.of(keys, results);
  }

  /** Org days served as kept rendered, for /metrics. */
  public long sealedDayHits() {
    return sealedDays.hits();
  }

  /** Sealed org days that had to be read and rendered, for /metrics. */
  public long sealedDayMisses() {
    return sealedDays.misses();
  }

  /** Memory the rendered sealed days take, for /metrics. */
  public long sealedDayBytes() {
    return sealedDays.bytes();
  }

  /** A read of an org's partition that answers from {@link OrgKeyTotals}, or null where they cannot answer. */
  @FunctionalInterface
  private interface OrgKeyRead {
    Object read(int partition, boolean stale);
  }

  /**
   * An org-wide question answered on the instance where the org's partition is active, from
   * {@code fromOrgKeyTotals}; where that cannot answer (hours, days from before an upgrade), the
   * old way: every instance's {@code oldPart}, put together by {@code oldMerge}. A call asking for
   * this instance's part only is answered with {@code oldPart}.
   */
  private <T> Answer fromOrgPartition(String orgId, boolean allowStale, Call call, Class<T> type, Supplier<T> oldPart,
      Function<List<T>, T> oldMerge, OrgKeyRead fromOrgKeyTotals) {
    if (call.localScope()) {
      return router.fanOut(call, type, oldPart, oldMerge);
    }
    return router.route(OrgUsageProcessor.DAILY_STORE, orgId, allowStale, call, (partition, stale) -> {
      Object answer = fromOrgKeyTotals.read(partition, stale);
      return answer != null ? answer
          : oldMerge.apply(router.gather(call.pathAndQuery(), type, oldPart).stream().map(Part::body).toList());
    });
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

  /**
   * Per-key totals of an org over a date range: from its org task's {@link OrgKeyTotals} on one
   * instance, or, for days from before those were kept, from every key's buckets on every instance.
   */
  public Answer orgTotalsByKey(String orgId, Call call) {
    String id = ReportRequest.id("org_id", orgId);
    LocalDate[] range = ReportRequest.dateRange(call.param(), MAX_TOTALS_DAYS);
    long fromDay = ReportRequest.startOfDay(range[0]);
    long toDay = ReportRequest.startOfDay(range[1]);
    Supplier<TotalsByKey> oldPart = () -> {
      Freshness f = local.localFreshness();
      return totalsByKey(id, range, local.totalsByKey(KeyUsageProcessor.DAILY_STORE, id, fromDay, toDay), f);
    };
    Function<List<TotalsByKey>, TotalsByKey> merge = partials -> {
      Map<String, UsageView> merged = new TreeMap<>();
      Freshness f = new Freshness(null, false);
      for (TotalsByKey partial : partials) {
        partial.data().forEach(k -> merged.merge(k.apiKeyId(), k.usage(), UsageView::plus));
        f = Freshness.min(f, new Freshness(partial.asOf(), partial.stale()));
      }
      return totalsByKey(id, range, merged, f);
    };
    boolean allowStale = ReportRequest.bool("allow_stale", call.param().apply("allow_stale"));
    return fromOrgPartition(id, allowStale, call, TotalsByKey.class, oldPart, merge, (partition, stale) ->
        local.orgKeyTotalsCover(partition, fromDay, stale)
            ? totalsByKey(id, range, local.orgKeyTotalsByDay(id, partition, fromDay, toDay, stale),
                local.freshness(Progress.ORG_STORE, partition, stale))
            : null);
  }

  private static TotalsByKey totalsByKey(String orgId, LocalDate[] range, Map<String, UsageView> byKey, Freshness f) {
    List<KeyTotals> data = new ArrayList<>();
    byKey.forEach((key, usage) -> data.add(new KeyTotals(key, usage)));
    return new TotalsByKey(orgId, range[0], range[1], data, f.asOf(), f.stale());
  }

  private static String scopeStore(ReportRequest request, boolean org) {
    boolean hourly = request.width() == BucketWidth.HOUR;
    if (org) {
      return hourly ? OrgUsageProcessor.HOURLY_STORE : OrgUsageProcessor.DAILY_STORE;
    }
    return hourly ? KeyUsageProcessor.HOURLY_STORE : KeyUsageProcessor.DAILY_STORE;
  }
}
