package dev.metering.stream;

import dev.metering.kafka.TopicSetup;
import dev.metering.schemas.Topics;
import dev.metering.stream.ingest.IngestCounters;
import dev.metering.stream.ingest.IngestProcessor;
import dev.metering.stream.ingest.RejectReason;
import dev.metering.stream.pricing.PriceBook;
import dev.metering.json.Json;
import dev.metering.keys.ServiceToken;
import dev.metering.metrics.ServiceMetrics;
import dev.metering.stream.query.QueryServer;
import dev.metering.stream.query.QueryService;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running metering-stream instance: the topology in a KafkaStreams client, its query server
 * (usage queries, health, metrics) and their lifecycle.
 */
public final class MeteringApp implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MeteringApp.class);

  private final KafkaStreams streams;
  private final QueryServer server;
  private final PrometheusMeterRegistry metrics;
  private final ServiceToken queryToken;
  private final AtomicInteger restoring = new AtomicInteger();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private CrashMarker crashMarker;

  private MeteringApp(KafkaStreams streams, QueryServer server, PrometheusMeterRegistry metrics, ServiceToken queryToken) {
    this.queryToken = queryToken;
    this.streams = streams;
    this.server = server;
    this.metrics = metrics;
  }

  /** Starts the query server and the topology; returns at once, before the instance is RUNNING. */
  public static MeteringApp start(MeteringConfig config, PriceBook prices) {
    int usagePartitions = prepareTopics(config);
    AtomicReference<QueryServer.Status> status = new AtomicReference<>();
    if (config.queryToken().generated()) {
      log.warn("METERING_QUERY_TOKEN is unset: the query API accepts a token generated for this process only;"
          + " set it (shared with admin-api and every instance) to serve admin-api or run more instances");
    }
    PrometheusMeterRegistry metrics = metricsRegistry();
    QueryServer server = QueryServer.start(config.httpBind(), config.httpPort(), config.queryToken(), metrics,
        status::get);
    HostInfo self = new HostInfo(config.advertisedHost(), server.port());
    Properties props = StreamsSettings.of(config);
    props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, self.host() + ":" + self.port());
    KafkaStreams streams = new KafkaStreams(MeteringTopology.build(config, prices, usagePartitions), props);
    MeteringApp app = new MeteringApp(streams, server, metrics, config.queryToken());
    app.bindMetrics();
    streams.setGlobalStateRestoreListener(app.restoreTracker());
    streams.setStateListener((now, before) -> {
      log.info("metering-stream {} -> {}", before, now);
      if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
        app.stopped.countDown();
      }
    });
    // A failure that survives Kafka Streams' own retries is a bug or a broken cluster: stop this
    // instance loudly so its supervisor restarts it and someone looks, rather than loop on it.
    streams.setUncaughtExceptionHandler(e -> {
      log.error("metering-stream stopping after an unrecoverable error", e);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    status.set(app.status());
    app.crashMarker = CrashMarker.open(config, streams);
    streams.start();
    QueryService queries = new QueryService(streams, self, usagePartitions, Json.mapper(), Clock.systemUTC(),
        config.lateGrace(), config.queryCacheBytes(), config.queryToken());
    app.bindQueryMetrics(queries);
    server.serve(queries);
    return app;
  }

  public KafkaStreams streams() {
    return streams;
  }

  /** What callers of the query API present (for the services started in the same process, and tests). */
  public ServiceToken queryToken() {
    return queryToken;
  }

  /** The port the query server listens on. */
  public int httpPort() {
    return server.port();
  }

  /** RUNNING with no store being restored: every active partition hosted here is queryable. */
  public boolean ready() {
    return streams.state() == KafkaStreams.State.RUNNING && restoring.get() == 0;
  }

  /** Waits until RUNNING; false if the deadline passed or the instance stopped first. */
  public boolean awaitRunning(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      KafkaStreams.State state = streams.state();
      if (state == KafkaStreams.State.RUNNING) {
        return true;
      }
      if (!state.isRunningOrRebalancing() && state != KafkaStreams.State.CREATED) {
        return false;
      }
      stopped.await(50, TimeUnit.MILLISECONDS);
    }
    return false;
  }

  /** Blocks until the instance has stopped; true if it stopped because of an error. */
  public boolean awaitStopped() throws InterruptedException {
    stopped.await();
    return streams.state() == KafkaStreams.State.ERROR;
  }

  /**
   * The exact ingest counters of the partitions this instance hosts, summed: accepted,
   * duplicate, dead_lettered and dead_lettered.REASON.
   */
  public Map<String, Long> localCounters() {
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

  @Override
  public void close() {
    close(Duration.ofSeconds(30));
  }

  public void close(Duration timeout) {
    if (!streams.close(timeout)) {
      log.warn("metering-stream did not stop within {}", timeout);
    } else if (crashMarker != null && streams.state() == KafkaStreams.State.NOT_RUNNING) {
      crashMarker.closedCleanly();
    }
    server.close();
    ServiceMetrics.detach(metrics);
    metrics.close();
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

  private void bindMetrics() {
    ServiceMetrics.attach(metrics);
    new KafkaStreamsMetrics(streams).bindTo(metrics);
    for (String counter : List.of(IngestCounters.ACCEPTED, IngestCounters.DUPLICATE, IngestCounters.DEAD_LETTERED)) {
      Gauge.builder("metering.ingest.events", this, app -> app.localCounter(counter))
          .description("Usage events consumed by the partitions hosted here, by outcome (exact, transactional)")
          .tag("outcome", counter)
          .register(metrics);
    }
    for (RejectReason reason : RejectReason.values()) {
      Gauge.builder("metering.dead.letters", this, app -> app.localCounter(IngestCounters.deadLettered(reason)))
          .description("Usage events dead-lettered by the partitions hosted here, by reason (exact, transactional)")
          .tag("reason", reason.name())
          .register(metrics);
    }
    Gauge.builder("metering.restoring.stores", restoring, AtomicInteger::get)
        .description("State stores being restored on this instance")
        .register(metrics);
  }

  private void bindQueryMetrics(QueryService queries) {
    FunctionCounter.builder("metering.query.closed.buckets", queries, QueryService::closedBucketHits)
        .description("Final buckets of org reports by key served already rendered")
        .tag("result", "hit")
        .register(metrics);
    FunctionCounter.builder("metering.query.closed.buckets", queries, QueryService::closedBucketMisses)
        .description("Final buckets of org reports by key served already rendered")
        .tag("result", "miss")
        .register(metrics);
    Gauge.builder("metering.query.closed.buckets.bytes", queries, QueryService::closedBucketBytes)
        .description("Memory held by rendered final buckets (METERING_QUERY_CACHE_MB bounds it)")
        .register(metrics);
  }

  private double localCounter(String name) {
    try {
      return localCounters().getOrDefault(name, 0L);
    } catch (InvalidStateStoreException notNow) {
      return Double.NaN;
    }
  }

  private StateRestoreListener restoreTracker() {
    return new StateRestoreListener() {
      @Override
      public void onRestoreStart(TopicPartition partition, String store, long start, long end) {
        restoring.incrementAndGet();
      }

      @Override
      public void onBatchRestored(TopicPartition partition, String store, long batchEnd, long restored) {
        // progress is not tracked, only whether restoration is going on
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

  private QueryServer.Status status() {
    return new QueryServer.Status() {
      @Override
      public boolean live() {
        KafkaStreams.State state = streams.state();
        return state != KafkaStreams.State.ERROR && state != KafkaStreams.State.NOT_RUNNING
            && state != KafkaStreams.State.PENDING_ERROR;
      }

      @Override
      public boolean ready() {
        return MeteringApp.this.ready();
      }

      @Override
      public String describe() {
        return streams.state() + (restoring.get() > 0 ? ", restoring " + restoring.get() + " stores" : "");
      }

      @Override
      public String scrape() {
        return metrics.scrape();
      }
    };
  }

  /**
   * Brings the changelogs of window stores that an earlier version created in line with
   * {@link StateTopics} (Kafka Streams sets configs only when it creates a topic), and returns the
   * partition count of usage-events.
   */
  private static int prepareTopics(MeteringConfig config) {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        config.kafka().bootstrapServers()))) {
      new TopicSetup(StateTopics.changelogSpecs(config)).alignExisting(admin);
      return admin.describeTopics(List.of(Topics.USAGE_EVENTS.name())).allTopicNames().get()
          .get(Topics.USAGE_EVENTS.name()).partitions().size();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading the partitions of usage-events", e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot prepare metering-stream's topics: " + e.getMessage(), e);
    }
  }
}
