package dev.metering.stream;

import dev.metering.kafka.HangingTransactions;
import dev.metering.kafka.TopicSetup;
import dev.metering.schemas.Topic;
import dev.metering.schemas.Topics;
import dev.metering.stream.pricing.PriceBook;
import dev.metering.json.Json;
import dev.metering.keys.ServiceToken;
import dev.metering.stream.query.QueryServer;
import dev.metering.stream.query.QueryService;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running metering-stream instance: the topology in a KafkaStreams client, its query server
 * and their lifecycle. What /health and /metrics say is {@link StreamHealth}'s.
 */
public final class MeteringApp implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MeteringApp.class);
  /** How often hanging transactions are looked for. */
  private static final Duration HANGING_CHECK_EVERY = Duration.ofSeconds(5);
  /**
   * How long a transaction must be seen hanging before it is aborted: a metering partition stops
   * until then, and a completing transaction's markers are written within milliseconds.
   */
  private static final Duration HANGING_CONFIRM_AFTER = Duration.ofSeconds(10);

  private final KafkaStreams streams;
  private final QueryServer server;
  private final StreamHealth health;
  private final ServiceToken queryToken;
  private final CountDownLatch stopped = new CountDownLatch(1);
  private CrashMarker crashMarker;
  /** With a stable instance id: hands over the group members of threads that will not come back. */
  private StaticMembers staticMembers;
  private Admin hangingTransactionsAdmin;
  private HangingTransactions hangingTransactions;
  /**
   * What a clean stop does to the group: an instance with a stable id (static membership) stays
   * in it, to take its partitions back when it restarts within the session timeout; any other
   * leaves at once, so its partitions move to the other instances now rather than after the
   * session timeout (45 s) with nobody metering them, which is Kafka Streams' default.
   */
  private final CloseOptions.GroupMembershipOperation onClose;

  private MeteringApp(KafkaStreams streams, QueryServer server, StreamHealth health, ServiceToken queryToken,
      boolean staticMember) {
    this.onClose = staticMember ? CloseOptions.GroupMembershipOperation.REMAIN_IN_GROUP
        : CloseOptions.GroupMembershipOperation.LEAVE_GROUP;
    this.queryToken = queryToken;
    this.streams = streams;
    this.server = server;
    this.health = health;
  }

  /** Starts the query server and the topology; returns at once, before the instance is RUNNING. */
  public static MeteringApp start(MeteringConfig config, PriceBook prices) {
    int usagePartitions = prepareTopics(config);
    AtomicReference<QueryServer.Status> status = new AtomicReference<>();
    if (config.queryToken().generated()) {
      log.warn("METERING_QUERY_TOKEN is unset: the query API accepts a token generated for this process only;"
          + " set it (shared with admin-api and every instance) to serve admin-api or run more instances");
    }
    PrometheusMeterRegistry metrics = StreamHealth.metricsRegistry();
    QueryServer server = QueryServer.start(config.httpBind(), config.httpPort(), config.queryToken(), metrics,
        status::get);
    HostInfo self = new HostInfo(config.advertisedHost(), server.port());
    Properties props = StreamsSettings.of(config);
    props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, self.host() + ":" + self.port());
    RunningTasks running = new RunningTasks();
    Topology topology = MeteringTopology.build(config, prices, usagePartitions, running);
    KafkaStreams streams = new KafkaStreams(topology, props);
    StreamHealth health = new StreamHealth(streams, metrics);
    MeteringApp app = new MeteringApp(streams, server, health, config.queryToken(), config.instanceId().isPresent());
    streams.setGlobalStateRestoreListener(health.restoreTracker());
    streams.setStateListener((now, before) -> {
      log.info("metering-stream {} -> {}", before, now);
      if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
        app.stopped.countDown();
      }
    });
    app.staticMembers = config.instanceId()
        .map(id -> new StaticMembers(config.kafka().bootstrapServers(), config.applicationId(), id)).orElse(null);
    StaticMembers members = app.staticMembers;
    if (members != null) {
      members.removeBeyond(config.streamThreads());
    }
    streams.setUncaughtExceptionHandler(new ThreadFailures(metrics, thread -> {
      if (members != null) {
        members.replaced(thread);
      }
    }));
    status.set(health);
    app.watchForHangingTransactions(config, metrics);
    app.crashMarker = CrashMarker.open(config, streams);
    streams.start();
    QueryService queries = new QueryService(streams, running.readable(topology.describe()), self, usagePartitions,
        Json.mapper(), Clock.systemUTC(), config.queryToken(), config.dailyRetention(), config.queryCacheBytes());
    health.sealedDays(queries);
    server.serve(queries);
    return app;
  }

  /**
   * Aborts transactions left open on the system's topics and this application's internal topics
   * with no coordinator to end them (see {@link HangingTransactions}): one stops every
   * read_committed reader of its partition for good, this instance's restorations and tasks
   * included. Every instance checks; an abort that another already made fails harmlessly.
   */
  private void watchForHangingTransactions(MeteringConfig config, PrometheusMeterRegistry metrics) {
    Set<String> shared = Topics.ALL.stream().map(Topic::name).collect(Collectors.toSet());
    String internal = config.applicationId() + "-";
    hangingTransactionsAdmin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        config.kafka().bootstrapServers()));
    hangingTransactions = new HangingTransactions(hangingTransactionsAdmin,
        topic -> shared.contains(topic) || topic.startsWith(internal), HANGING_CONFIRM_AFTER, metrics)
        .start(HANGING_CHECK_EVERY);
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
    return health.ready();
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
   * Changelog records replayed into this instance's stores since it started: after a clean restart
   * on the same state directory, 0 (every store resumes from its local state).
   */
  public long restoredRecords() {
    return health.restoredRecords();
  }

  /**
   * The exact ingest counters of the partitions this instance hosts, summed: accepted,
   * duplicate, dead_lettered and dead_lettered.REASON.
   */
  public Map<String, Long> localCounters() {
    return health.localCounters();
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(30));
  }

  public void close(Duration timeout) {
    if (!streams.close(CloseOptions.timeout(timeout).withGroupMembershipOperation(onClose))) {
      log.warn("metering-stream did not stop within {}", timeout);
    } else if (crashMarker != null && streams.state() == KafkaStreams.State.NOT_RUNNING) {
      crashMarker.closedCleanly();
    }
    server.close();
    health.close();
    if (staticMembers != null) {
      staticMembers.close();
    }
    if (hangingTransactions != null) {
      hangingTransactions.close();
      hangingTransactionsAdmin.close(Duration.ofSeconds(5));
    }
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
