package dev.metering.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.config.Env;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.records.state.UsageTotals;
import dev.metering.records.LimitEventKind;
import dev.metering.schemas.Topics;
import dev.metering.stream.ingest.IngestCounters;
import dev.metering.stream.pricing.PriceBook;
import dev.metering.stream.usage.KeyUsageProcessor;
import dev.metering.stream.usage.OrgUsageProcessor;
import dev.metering.stream.usage.Periods;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;

/** metering-stream's integration-test helpers, on top of {@link KafkaTestSupport}. */
public final class TestCluster {

  /** The service token every instance of a test shares, so they forward queries to each other. */
  public static final String QUERY_TOKEN = "test-query-token-0123456789";

  private TestCluster() {
  }

  /** Produces the workload's keys, rules and budgets, then each of its events once. */
  public static void produce(String bootstrap, Workload workload) {
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(bootstrap)) {
      produceLimits(producer, workload);
      workload.events.forEach(event -> producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(),
          event.getApiKeyId(), Topics.USAGE_EVENTS.encode(event))));
      producer.flush();
    }
  }

  /**
   * Produces the workload's keys, alert rules and org budgets, what its limit events are judged by,
   * dated at their creation before the workload's first event ({@link Workload#created}).
   */
  public static void produceLimits(KafkaProducer<String, byte[]> producer, Workload workload) {
    long created = workload.created;
    workload.keys.forEach(key -> producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), null, created,
        key.getId(), Topics.API_KEYS.encode(key))));
    workload.rules.forEach(rule -> producer.send(new ProducerRecord<>(Topics.ALERT_RULES.name(), null, created,
        rule.getId(), Topics.ALERT_RULES.encode(rule))));
    workload.budgets.forEach(budget -> producer.send(new ProducerRecord<>(Topics.ORG_BUDGETS.name(), null, created,
        budget.getOrgId(), Topics.ORG_BUDGETS.encode(budget))));
  }

  /**
   * Waits until {@code applicationId} has committed every record of the workload's keys, rules and
   * budgets, and every record its rules' repartition topics hold: the limits are in its stores.
   */
  public static void awaitLimitsRead(String bootstrap, String applicationId, Workload workload)
      throws InterruptedException {
    long keyRules = workload.rules.stream().filter(rule -> rule.getApiKeyId() != null).count();
    long orgRules = workload.rules.size() - keyRules;
    await("metering-stream to read the workload's keys, rules and budgets", Duration.ofSeconds(90), () ->
        KafkaTestSupport.committed(bootstrap, applicationId, Topics.API_KEYS.name()) >= workload.keys.size()
            && KafkaTestSupport.committed(bootstrap, applicationId, Topics.ALERT_RULES.name()) >= workload.rules.size()
            && KafkaTestSupport.committed(bootstrap, applicationId, Topics.ORG_BUDGETS.name()) >= workload.budgets.size()
            && readToEnd(bootstrap, applicationId, applicationId + "-alert-rules-by-key-repartition", keyRules)
            && readToEnd(bootstrap, applicationId, applicationId + "-alert-rules-by-org-repartition", orgRules));
  }

  /**
   * Whether the group has committed {@code topic}, which Kafka Streams writes in transactions, up to
   * its last committed record, and it holds at least {@code records}.
   */
  private static boolean readToEnd(String bootstrap, String groupId, String topic, long records) {
    try (Admin admin = Admin.create(adminConfig(bootstrap))) {
      Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(groupId)
          .partitionsToOffsetAndMetadata().get();
      Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
      admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions()
          .forEach(p -> partitions.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest()));
      Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(partitions,
          new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all().get();
      long end = 0;
      for (Map.Entry<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> partition : ends.entrySet()) {
        long last = partition.getValue().offset();
        OffsetAndMetadata offset = committed.get(partition.getKey());
        // Kafka Streams commits the offset after its last record, before the marker that commits
        // the transaction which wrote it (the partition's last offset)
        if (last > 0 && (offset == null || offset.offset() < last - 1)) {
          return false;
        }
        end += last;
      }
      // a transaction's marker takes an offset too: at least one offset per record
      return end >= records;
    } catch (ExecutionException | InterruptedException e) {
      return false; // the topic is not created yet
    }
  }

  /** Records the app has consumed so far by its exact counters, or -1 while its stores are unavailable. */
  public static long consumed(MeteringApp app) {
    try {
      Map<String, Long> counters = app.localCounters();
      return counters.getOrDefault(IngestCounters.ACCEPTED, 0L) + counters.getOrDefault(IngestCounters.DUPLICATE, 0L)
          + counters.getOrDefault(IngestCounters.DEAD_LETTERED, 0L);
    } catch (InvalidStateStoreException rebalancing) {
      return -1;
    }
  }

  public static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    KafkaTestSupport.await(what, timeout, condition);
  }

  public static Map<String, Object> adminConfig(String bootstrap) {
    return KafkaTestSupport.adminConfig(bootstrap);
  }

  /**
   * Starts one instance of {@code applicationId} that other instances in this JVM can reach: its
   * own state directory, a free port on loopback; {@code settings} adds or overrides variables.
   */
  public static MeteringApp startInstance(String bootstrap, String applicationId, Map<String, String> settings)
      throws IOException {
    Map<String, String> env = new HashMap<>(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", bootstrap,
        "METERING_APPLICATION_ID", applicationId,
        "METERING_STATE_DIR", Files.createTempDirectory(applicationId).toString(),
        "METERING_HTTP_PORT", "0",
        "METERING_HTTP_BIND", "127.0.0.1",
        "METERING_QUERY_TOKEN", QUERY_TOKEN,
        "METERING_ADVERTISED_HOST", "127.0.0.1"));
    env.putAll(settings);
    return MeteringApp.start(MeteringConfig.from(new Env(env)), PriceBook.bundled());
  }

  /** One instance alone in this JVM: its own application id and state directory, a small RocksDB budget, any port. */
  public static MeteringConfig soloConfig(String bootstrap, String applicationId, Path stateDir) {
    return MeteringConfig.from(new Env(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", bootstrap,
        "METERING_APPLICATION_ID", applicationId,
        "METERING_STATE_DIR", stateDir.toString(),
        "METERING_ROCKSDB_MEMORY_MB", "64",
        "METERING_HTTP_PORT", "0")));
  }

  /**
   * The environment of an instance that a crash test kills and replaces: a stable instance id and
   * one state directory shared by the victims and their replacement.
   */
  public static Map<String, String> crashTestEnv(String bootstrap, String applicationId, Path stateDir,
      int partitions) {
    return Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", bootstrap,
        "METERING_APPLICATION_ID", applicationId,
        "METERING_STATE_DIR", stateDir.toString(),
        "METERING_TOPIC_PARTITIONS", Integer.toString(partitions),
        "METERING_INSTANCE_ID", "metering-0",
        "METERING_ROCKSDB_MEMORY_MB", "64",
        "METERING_HTTP_PORT", "0");
  }

  /**
   * Once {@code app} has consumed {@code total} records: every event of {@code workload} counted
   * once, {@code duplicates} counted as such, and every daily total of its keys and orgs exact.
   */
  public static void assertCountedExactlyOnce(MeteringApp app, Workload workload, long total, long duplicates,
      long from, long to) throws InterruptedException {
    await(total + " records consumed", Duration.ofSeconds(180), () -> consumed(app) == total);
    await("no rebalance or restore in progress", Duration.ofSeconds(60), app::ready);
    Map<String, Long> counters = app.localCounters();
    assertEquals(workload.events.size(), counters.get(IngestCounters.ACCEPTED), counters.toString());
    assertEquals(duplicates, counters.get(IngestCounters.DUPLICATE), counters.toString());
    assertDaily(workload.expectedDaily(false), windowStore(app, KeyUsageProcessor.DAILY_STORE));
    // org totals are one repartition topic behind: a killed instance's repartitioned records
    // must be counted once too, whether it committed them or not
    ReadOnlyWindowStore<String, UsageTotals> orgDaily = windowStore(app, OrgUsageProcessor.DAILY_STORE);
    await("org totals of every accepted event", Duration.ofSeconds(60),
        () -> requests(orgDaily, from, to) == workload.events.size());
    assertDaily(workload.expectedDaily(true), orgDaily);
  }

  /** Each limit event {@code workload} causes is in the committed limit-events exactly once, and no other. */
  public static void assertLimitEventsOnce(String bootstrap, Workload workload) {
    List<Workload.ExpectedLimitEvent> actual = new ArrayList<>();
    KafkaTestSupport.readAllCommitted(bootstrap, Topics.LIMIT_EVENTS.name(), new StringDeserializer(),
            Topics.LIMIT_EVENTS.valueSerde().deserializer())
        .forEach(r -> actual.add(Workload.ExpectedLimitEvent.of(r.value())));
    List<Workload.ExpectedLimitEvent> expected = workload.expectedLimitEvents();
    assertTrue(expected.size() >= 3, "the workload crosses some limits: " + expected);
    assertTrue(expected.stream().anyMatch(e -> e.scope().startsWith("org:") && e.kind() == LimitEventKind.LIMIT_BREACHED),
        "the workload reaches an organisation's budget: " + expected);
    assertEquals(KafkaTestSupport.counts(expected), KafkaTestSupport.counts(actual),
        "each limit event exactly once in the committed output");
  }

  public static ReadOnlyWindowStore<String, UsageTotals> windowStore(MeteringApp app, String name) {
    return app.streams().store(StoreQueryParameters.fromNameAndType(name, QueryableStoreTypes.windowStore()));
  }

  /** Requests counted in a daily store from the day of {@code from} to {@code to}, or -1 while it is unavailable. */
  public static long requests(ReadOnlyWindowStore<String, UsageTotals> store, long from, long to) {
    long requests = 0;
    try (var all = store.fetchAll(Instant.ofEpochMilli(Periods.dayStart(from)), Instant.ofEpochMilli(to))) {
      while (all.hasNext()) {
        requests += all.next().value.getRequests();
      }
    } catch (InvalidStateStoreException rebalancing) {
      return -1;
    }
    return requests;
  }

  /** Every day of every id in {@code expected} has exactly those totals in {@code store}. */
  public static void assertDaily(Map<String, Map<Long, Workload.Expected>> expected,
      ReadOnlyWindowStore<String, UsageTotals> store) {
    expected.forEach((id, days) -> days.forEach((day, totals) -> {
      UsageTotals actual = store.fetch(id, day);
      String where = id + " " + Instant.ofEpochMilli(day);
      assertNotNull(actual, where);
      assertEquals(totals, Workload.Expected.of(actual), where);
    }));
  }
}
