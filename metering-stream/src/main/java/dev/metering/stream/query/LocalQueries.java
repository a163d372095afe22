package dev.metering.stream.query;

import dev.metering.api.Dollars;
import dev.metering.api.query.CurrentPeriod;
import dev.metering.api.query.Percent;
import dev.metering.api.query.Projection;
import dev.metering.api.query.Freshness;
import dev.metering.api.query.ReportResult;
import dev.metering.api.query.UsageReport;
import dev.metering.api.query.UsageView;
import dev.metering.records.ApiKey;
import dev.metering.records.state.MonthState;
import dev.metering.records.state.UsageTotals;
import dev.metering.stream.RunningTasks;
import dev.metering.stream.limits.KeyLimits;
import dev.metering.stream.usage.OrgKeyTotals;
import dev.metering.stream.usage.Periods;
import dev.metering.stream.usage.Progress;
import dev.metering.stream.usage.SourceWatermarks;
import java.time.Instant;
import java.time.YearMonth;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreType;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

/**
 * Reads this instance's own state stores. Callers choose the partition (one key's or org's) or,
 * for org-wide scans, read every active partition hosted here. A store that cannot be read (being
 * restored or moved) raises {@link UnavailableException}.
 */
final class LocalQueries {

  private final KafkaStreams streams;
  private final RunningTasks.Readable readable;

  /** @param readable which store partitions are whole here: Kafka Streams also serves an active task's being restored */
  LocalQueries(KafkaStreams streams, RunningTasks.Readable readable) {
    this.streams = streams;
    this.readable = readable;
  }

  /** How many times a running task here has closed (see {@link RunningTasks.Readable#closes}). */
  long tasksClosed() {
    return readable.closes();
  }

  /** The key's calendar month (UTC) holding {@code now}, with its limit state. */
  CurrentPeriod currentPeriod(String apiKeyId, int partition, boolean stale, Instant now) {
    String period = Periods.month(now.toEpochMilli());
    MonthState month = kv(KeyLimits.MONTH_STORE, partition, stale, MonthState.class)
        .get(KeyLimits.monthKey(apiKeyId, period));
    ApiKey key = kv(KeyLimits.API_KEYS_STORE, partition, stale, ApiKey.class).get(apiKeyId);
    if (month == null && key == null) {
      throw new NotFoundException("no api key or usage is known for api_key_id " + apiKeyId);
    }
    UsageView usage = month == null ? UsageView.EMPTY : UsageViews.of(month.getTotals());
    Long limit = key == null ? null : key.getMaxTokensPerMonth();
    Double percent = Percent.of(usage.totalTokens(), limit);
    Long costLimit = key == null ? null : key.getMaxCostMicrosPerMonth();
    Double costPercent = Percent.of(usage.costMicros(), costLimit);
    String orgId = key != null ? key.getOrgId() : month.getTotals().getOrgId();
    return new CurrentPeriod(apiKeyId, orgId, period, usage, limit, percent, costLimit,
        costLimit == null ? null : Dollars.format(costLimit), costPercent,
        Projection.monthEnd(YearMonth.parse(period), usage.totalTokens(), usage.costMicros(), now),
        key != null && key.getHardLimit(), month != null && month.getBreached(),
        key == null ? null : key.getStatus().name(), streamTime(Progress.INGEST_STORE, partition, stale), stale);
  }

  /** Buckets of one scope (a key in key stores, an org in org stores) from one partition. */
  UsageReport report(String store, String id, int partition, ReportRequest request, Freshness freshness) {
    Map<Long, List<ReportResult>> buckets = new TreeMap<>();
    ReadOnlyWindowStore<String, UsageTotals> windows = windowStore(store, partition, request.allowStale());
    try (WindowStoreIterator<UsageTotals> found = windows.fetch(id, request.pageStart(),
        request.pageEnd().minusMillis(1))) {
      while (found.hasNext()) {
        KeyValue<Long, UsageTotals> bucket = found.next();
        buckets.put(bucket.key, results(null, bucket.value, "model".equals(request.groupBy())));
      }
    }
    return ReportAssembly.report(request, buckets, freshness);
  }

  /**
   * Whether the org task of {@code partition} holds every key's usage of the buckets from
   * {@code firstBucket} on in its {@link OrgKeyTotals}: it does for buckets starting after the task's
   * stream time when it first kept them (a task from before they existed lacks what it had counted until then).
   */
  boolean orgKeyTotalsCover(int partition, long firstBucket, boolean stale) {
    ReadOnlyKeyValueStore<String, Long> progress = kv(Progress.ORG_STORE, partition, stale, Long.class);
    Long since = progress.get(OrgKeyTotals.SINCE);
    if (since == null) {
      // not written before the task's first event since: complete only if it never counted any
      since = progress.get(Progress.STREAM_TIME);
    }
    return since == null || firstBucket > since;
  }

  /**
   * One org's day from its org task's {@link OrgKeyTotals}: the first {@code max} keys after
   * {@code afterKey} (null: from the first) and up to {@code upTo} (included; null: no bound) with
   * their usage, in key order.
   */
  void orgDay(String orgId, int partition, long dayStart, String afterKey, String upTo, int max, boolean stale,
      BiConsumer<String, UsageView> each) {
    ReadOnlyKeyValueStore<String, UsageTotals> store = kv(OrgKeyTotals.STORE, partition, stale, UsageTotals.class);
    orgBucket(store, OrgKeyTotals.prefix(dayStart, orgId), afterKey, upTo, max,
        (key, totals) -> each.accept(key, UsageViews.of(totals)));
  }

  /** A value of the org task's progress store ({@link Progress#STREAM_TIME}, {@link SourceWatermarks#SEALED_THROUGH}), or Long.MIN_VALUE. */
  long orgProgress(int partition, String key, boolean stale) {
    Long value = kv(Progress.ORG_STORE, partition, stale, Long.class).get(key);
    return value == null ? Long.MIN_VALUE : value;
  }

  /** Per-key totals of one org from its org task's {@link OrgKeyTotals}, both days included. */
  Map<String, UsageView> orgKeyTotalsByDay(String orgId, int partition, long fromDay, long toDay, boolean stale) {
    ReadOnlyKeyValueStore<String, UsageTotals> store = kv(OrgKeyTotals.STORE, partition, stale, UsageTotals.class);
    Map<String, UsageView> byKey = new TreeMap<>();
    for (long day = fromDay; day <= toDay; day += Periods.DAY_MILLIS) {
      orgBucket(store, OrgKeyTotals.prefix(day, orgId), null, null, Integer.MAX_VALUE,
          (key, totals) -> byKey.merge(key, UsageViews.of(totals), UsageView::plus));
    }
    return byKey;
  }

  /**
   * The first {@code max} keys of one org's bucket after {@code afterKey} (null: from the first) and
   * up to {@code upTo} (included; null: to the bucket's end), in key order.
   */
  private static void orgBucket(ReadOnlyKeyValueStore<String, UsageTotals> store, String prefix, String afterKey,
      String upTo, int max, BiConsumer<String, UsageTotals> each) {
    // the smallest id after afterKey is afterKey followed by the lowest character
    try (KeyValueIterator<String, UsageTotals> keys = store.range(
        afterKey == null ? prefix : prefix + afterKey + '\u0000',
        upTo == null ? OrgKeyTotals.rangeEnd(prefix) : prefix + upTo)) {
      for (int read = 0; read < max && keys.hasNext(); read++) {
        KeyValue<String, UsageTotals> entry = keys.next();
        if (!entry.key.startsWith(prefix)) {
          return;
        }
        each.accept(entry.key.substring(prefix.length()), entry.value);
      }
    }
  }

  /**
   * Buckets of every key of {@code orgId} hosted here (active partitions only), grouped by key, for
   * merging: the way to a report by key where {@link #orgKeyTotalsCover} says the org task cannot
   * answer. The freshness is read before the buckets, so as_of never claims more than was read.
   */
  UsageReport orgReportByKey(String keyStore, String orgId, ReportRequest request) {
    Freshness freshness = localFreshness();
    Map<Long, List<ReportResult>> buckets = new TreeMap<>();
    scanOrgKeys(keyStore, orgId, request.pageStart().toEpochMilli(), request.pageEnd().toEpochMilli() - 1,
        (windowed, totals) -> buckets.computeIfAbsent(windowed.window().start(), s -> new ArrayList<>())
            .addAll(results(windowed.key(), totals, false)));
    return ReportAssembly.partial(request, buckets, freshness);
  }

  /** The usage-events partitions active here: what a local part of an org-wide query reads. */
  record Coverage(Set<Integer> partitions) {
  }

  /** The usage-events partitions active here; 503 while one of them is being restored. */
  Coverage coverage() {
    Set<Integer> active = activeUsagePartitions();
    Set<Integer> restoring = new java.util.TreeSet<>();
    for (int partition : active) {
      if (!readable.test(Progress.INGEST_STORE, partition)) {
        restoring.add(partition);
      }
    }
    if (!restoring.isEmpty()) {
      throw new UnavailableException("usage partitions " + restoring + " are being restored here");
    }
    return new Coverage(active);
  }

  /** Sum of the daily buckets of one scope from one partition, both days included. */
  UsageView totals(String dailyStore, String id, int partition, long fromDay, long toDay, boolean stale) {
    UsageView sum = UsageView.EMPTY;
    try (WindowStoreIterator<UsageTotals> days = windowStore(dailyStore, partition, stale).fetch(id,
        Instant.ofEpochMilli(fromDay), Instant.ofEpochMilli(toDay))) {
      while (days.hasNext()) {
        sum = sum.plus(UsageViews.of(days.next().value));
      }
    }
    return sum;
  }

  /** Per-key totals of every key of {@code orgId} hosted here, both days included. */
  Map<String, UsageView> totalsByKey(String dailyKeyStore, String orgId, long fromDay, long toDay) {
    Map<String, UsageView> byKey = new TreeMap<>();
    scanOrgKeys(dailyKeyStore, orgId, fromDay, toDay,
        (windowed, totals) -> byKey.merge(windowed.key(), UsageViews.of(totals), UsageView::plus));
    return byKey;
  }

  /** Freshness of one partition's data. */
  Freshness freshness(String progressStore, int partition, boolean stale) {
    return new Freshness(streamTime(progressStore, partition, stale), stale);
  }

  /** Freshness of everything hosted here: the oldest stream time of the active usage-events partitions. */
  Freshness localFreshness() {
    Freshness freshness = new Freshness(null, false);
    for (int partition : activeUsagePartitions()) {
      freshness = Freshness.min(freshness, freshness(Progress.INGEST_STORE, partition, false));
    }
    return freshness;
  }

  private void scanOrgKeys(String keyStore, String orgId, long from, long to,
      BiConsumer<Windowed<String>, UsageTotals> each) {
    ReadOnlyWindowStore<String, UsageTotals> all = guarded(() -> streams.store(
        StoreQueryParameters.fromNameAndType(keyStore, QueryableStoreTypes.<String, UsageTotals>windowStore())));
    try (KeyValueIterator<Windowed<String>, UsageTotals> found =
        all.fetchAll(Instant.ofEpochMilli(from), Instant.ofEpochMilli(to))) {
      while (found.hasNext()) {
        KeyValue<Windowed<String>, UsageTotals> bucket = found.next();
        if (bucket.value.getOrgId().equals(orgId)) {
          each.accept(bucket.key, bucket.value);
        }
      }
    } catch (InvalidStateStoreException e) {
      throw new UnavailableException("state moved while it was read: " + e.getMessage(), e);
    }
  }

  private Set<Integer> activeUsagePartitions() {
    Set<Integer> partitions = new java.util.TreeSet<>();
    streams.metadataForLocalThreads().forEach(thread -> thread.activeTasks().forEach(task -> {
      for (TopicPartition tp : task.topicPartitions()) {
        if (tp.topic().equals(dev.metering.schemas.Topics.USAGE_EVENTS.name())) {
          partitions.add(tp.partition());
        }
      }
    }));
    return partitions;
  }

  private static List<ReportResult> results(String apiKeyId, UsageTotals totals, boolean byModel) {
    if (!byModel) {
      return new ArrayList<>(List.of(new ReportResult(apiKeyId, null, UsageViews.of(totals))));
    }
    List<ReportResult> results = new ArrayList<>();
    new TreeMap<>(totals.getByModel()).forEach((model, usage) ->
        results.add(new ReportResult(apiKeyId, model, UsageViews.of(usage))));
    return results;
  }

  private Instant streamTime(String progressStore, int partition, boolean stale) {
    Long millis = kv(progressStore, partition, stale, Long.class).get(Progress.STREAM_TIME);
    return millis == null ? null : Instant.ofEpochMilli(millis);
  }

  private <V> ReadOnlyKeyValueStore<String, V> kv(String name, int partition, boolean stale, Class<V> type) {
    return store(name, QueryableStoreTypes.keyValueStore(), partition, stale);
  }

  private ReadOnlyWindowStore<String, UsageTotals> windowStore(String name, int partition, boolean stale) {
    return store(name, QueryableStoreTypes.windowStore(), partition, stale);
  }

  private <T> T store(String name, QueryableStoreType<T> type, int partition, boolean stale) {
    if (!stale && !readable.test(name, partition)) {
      throw new UnavailableException("partition " + partition + " of " + name + " is not whole here: its task is"
          + " being restored, or moved");
    }
    StoreQueryParameters<T> params = StoreQueryParameters.fromNameAndType(name, type).withPartition(partition);
    return guarded(() -> streams.store(stale ? params.enableStaleStores() : params));
  }

  private static <T> T guarded(java.util.function.Supplier<T> lookup) {
    try {
      return lookup.get();
    } catch (InvalidStateStoreException e) {
      throw new UnavailableException("state is not queryable here right now: " + e.getMessage(), e);
    }
  }
}
