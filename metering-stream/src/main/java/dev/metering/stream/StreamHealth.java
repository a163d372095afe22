package dev.metering.stream;

import dev.metering.metrics.ServiceMetrics;
import dev.metering.stream.ingest.IngestCounters;
import dev.metering.stream.ingest.IngestProcessor;
import dev.metering.stream.ingest.RejectReason;
import dev.metering.stream.query.QueryServer;
import dev.metering.stream.query.QueryService;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * What a metering-stream instance says about itself: live, ready (RUNNING with no store being
 * restored), and its metrics (Kafka Streams', the exact ingest and dead-letter counters of the
 * partitions hosted here, the stores restoring, the rendered-bucket cache, JVM and HTTP).
 */
final class StreamHealth implements QueryServer.Status, AutoCloseable {

  private final KafkaStreams streams;
  private final PrometheusMeterRegistry metrics;
  private final AtomicInteger restoring = new AtomicInteger();
  private final AtomicLong restored = new AtomicLong();

  StreamHealth(KafkaStreams streams, PrometheusMeterRegistry metrics) {
    this.streams = streams;
    this.metrics = metrics;
    ServiceMetrics.attach(metrics);
    new KafkaStreamsMetrics(streams).bindTo(metrics);
    for (String counter : List.of(IngestCounters.ACCEPTED, IngestCounters.DUPLICATE, IngestCounters.DEAD_LETTERED)) {
      Gauge.builder("metering.ingest.events", this, health -> health.localCounter(counter))
          .description("Usage events consumed by the partitions hosted here, by outcome (exact, transactional)")
          .tag("outcome", counter)
          .register(metrics);
    }
    for (RejectReason reason : RejectReason.values()) {
      Gauge.builder("metering.dead.letters", this, health -> health.localCounter(IngestCounters.deadLettered(reason)))
          .description("Usage events dead-lettered by the partitions hosted here, by reason (exact, transactional)")
          .tag("reason", reason.name())
          .register(metrics);
    }
    Gauge.builder("metering.org.corrected", this, health -> health.localCounter(IngestCounters.ORG_CORRECTED))
        .description("Accepted usage events whose org_id was not their key's registered organisation, counted under"
            + " the key's (a gateway's bug; exact, transactional)")
        .register(metrics);
    Gauge.builder("metering.restoring.stores", restoring, AtomicInteger::get)
        .description("State stores being restored on this instance")
        .register(metrics);
    FunctionCounter.builder("metering.restored.records", restored, AtomicLong::get)
        .description("Changelog records replayed into local state stores since start: 0 after a clean restart")
        .register(metrics);
  }

  /** Measures the sealed org days the query server keeps rendered: hits, misses and their memory. */
  void sealedDays(QueryService queries) {
    Map<String, ToDoubleFunction<QueryService>> results =
        Map.of("hit", QueryService::sealedDayHits, "miss", QueryService::sealedDayMisses);
    results.forEach((result, count) -> FunctionCounter.builder("metering.query.sealed.days", queries, count)
        .description("Org days of reports by key served as kept rendered (hit) or read and rendered (miss)")
        .tag("result", result)
        .register(metrics));
    Gauge.builder("metering.query.sealed.days.bytes", queries, QueryService::sealedDayBytes)
        .description("Memory the org days kept rendered take, about")
        .register(metrics);
  }

  /**
   * The registry /metrics scrapes. Kafka Streams tags a window store's metrics
   * rocksdb-window-state-id and a key-value store's rocksdb-state-id under the same names;
   * Prometheus needs one set of tag keys per name, so without the rename the registry refused
   * whichever kind came second and those stores were missing from /metrics.
   */
  static PrometheusMeterRegistry metricsRegistry() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().meterFilter(MeterFilter.renameTag("kafka.stream", "rocksdb.window.state.id", "rocksdb.state.id"));
    return registry;
  }

  /**
   * The exact ingest counters of the partitions this instance hosts, summed: accepted,
   * duplicate, dead_lettered and dead_lettered.REASON.
   */
  Map<String, Long> localCounters() {
    ReadOnlyKeyValueStore<String, Long> store = streams.store(
        StoreQueryParameters.fromNameAndType(IngestProcessor.COUNTERS_STORE, QueryableStoreTypes.keyValueStore()));
    Map<String, Long> sums = new TreeMap<>();
    try (KeyValueIterator<String, Long> all = store.all()) {
      while (all.hasNext()) {
        KeyValue<String, Long> counter = all.next();
        sums.merge(counter.key, counter.value, Long::sum);
      }
    }
    return sums;
  }

  private double localCounter(String name) {
    try {
      return localCounters().getOrDefault(name, 0L);
    } catch (InvalidStateStoreException notNow) {
      return Double.NaN;
    }
  }

  /** Changelog records replayed into local state stores since start (standby updates are not restores). */
  long restoredRecords() {
    return restored.get();
  }

  /** Counts the stores being restored and the records they replay, for readiness and /metrics. */
  StateRestoreListener restoreTracker() {
    return new StateRestoreListener() {
      @Override
      public void onRestoreStart(TopicPartition partition, String store, long start, long end) {
        restoring.incrementAndGet();
      }

      @Override
      public void onBatchRestored(TopicPartition partition, String store, long batchEnd, long batch) {
        restored.addAndGet(batch);
      }

      @Override
      public void onRestoreEnd(TopicPartition partition, String store, long restored) {
        restoring.decrementAndGet();
      }

      @Override
      public void onRestoreSuspended(TopicPartition partition, String store, long restored) {
        restoring.decrementAndGet();
      }
    };
  }

  @Override
  public boolean live() {
    KafkaStreams.State state = streams.state();
    return state != KafkaStreams.State.ERROR && state != KafkaStreams.State.NOT_RUNNING
        && state != KafkaStreams.State.PENDING_ERROR;
  }

  /** RUNNING with no store being restored: every active partition hosted here is queryable. */
  @Override
  public boolean ready() {
    return streams.state() == KafkaStreams.State.RUNNING && restoring.get() == 0;
  }

  @Override
  public String describe() {
    return streams.state() + (restoring.get() > 0 ? ", restoring " + restoring.get() + " stores" : "");
  }

  @Override
  public String scrape() {
    return metrics.scrape();
  }

  @Override
  public void close() {
    ServiceMetrics.detach(metrics);
    metrics.close();
  }
}
