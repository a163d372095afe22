package dev.metering.kafka;

import dev.metering.schemas.Topic;
import dev.metering.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.LeaderNotAvailableException;
import org.apache.kafka.common.errors.NotLeaderOrFollowerException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates every topic of the design contract with its partitions, cleanup policy and retention,
 * and brings the configs of existing topics back to what is specified. Running it again changes
 * nothing. It never changes a partition count: that would move keys between partitions and
 * break per-key state, so a mismatch that breaks co-partitioning is an error to fix by hand.
 */
public final class TopicSetup {

  private static final Logger log = LoggerFactory.getLogger(TopicSetup.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(30);

  /**
   * Topics that must have the same partition count because metering-stream reads them in the
   * same tasks: usage-events and api-keys by api_key_id, alert-rules, whose repartitions by
   * api_key_id and by org_id inherit its partition count, and org-budgets, read by org_id next to
   * usage-events' repartition by org_id (which inherits usage-events' count).
   */
  static final List<Topic<?, ?>> CO_PARTITIONED = List.of(Topics.USAGE_EVENTS, Topics.API_KEYS, Topics.ALERT_RULES,
      Topics.ORG_BUDGETS);

  /** The largest record usage-events takes (max.message.bytes). */
  public static final int MAX_USAGE_RECORD_BYTES = 1024 * 1024;
  /** The largest record usage-events-dlq takes; producers writing dead letters allow as much. */
  public static final int MAX_DEAD_LETTER_BYTES = 2 * 1024 * 1024;

  private final List<TopicSpec> specs;

  public TopicSetup(List<TopicSpec> specs) {
    this.specs = List.copyOf(Objects.requireNonNull(specs, "specs"));
  }

  /** The contract's topics with {@code partitions} partitions each and the given replication. */
  public static TopicSetup standard(int partitions, short replicationFactor) {
    short rf = replicationFactor;
    String minIsr = rf >= 3 ? "2" : "1";
    Map<String, String> appendTimeRetained = Map.of(
        // Retention counts from arrival, not from the event time in the payload: a gateway
        // replaying last week's events must not see them deleted before they are metered.
        TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime",
        TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, minIsr);
    List<TopicSpec> specs = List.of(
        new TopicSpec(Topics.USAGE_EVENTS.name(), partitions, rf, merge(appendTimeRetained, Map.of(
            TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
            TopicConfig.RETENTION_MS_CONFIG, millis(Duration.ofDays(14)),
            TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_USAGE_RECORD_BYTES)))),
        // A dead letter is the original record plus reason headers: room for the largest usage record and them.
        new TopicSpec(Topics.USAGE_EVENTS_DLQ.name(), partitions, rf, merge(appendTimeRetained, Map.of(
            TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
            TopicConfig.RETENTION_MS_CONFIG, millis(Duration.ofDays(90)),
            TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_DEAD_LETTER_BYTES)))),
        compacted(Topics.API_KEYS, partitions, rf, minIsr),
        compacted(Topics.ALERT_RULES, partitions, rf, minIsr),
        compacted(Topics.ORG_BUDGETS, partitions, rf, minIsr),
        // Limit events and spikes carry the event time of what caused them, which in a backfill is
        // weeks old: retention counts from when they were written, so alert-service still reads them.
        new TopicSpec(Topics.LIMIT_EVENTS.name(), partitions, rf, merge(appendTimeRetained, Map.of(
            TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
            TopicConfig.RETENTION_MS_CONFIG, millis(Duration.ofDays(30))))),
        new TopicSpec(Topics.SPIKE_EVENTS.name(), partitions, rf, merge(appendTimeRetained, Map.of(
            TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
            TopicConfig.RETENTION_MS_CONFIG, millis(Duration.ofDays(30))))),
        compacted(Topics.KEY_STATUS, partitions, rf, minIsr),
        deleted(Topics.NOTIFICATIONS, partitions, rf, minIsr, Duration.ofDays(7)),
        // The audit log is append-only and kept until an operator decides otherwise.
        new TopicSpec(Topics.AUDIT_LOG.name(), partitions, rf, Map.of(
            TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
            TopicConfig.RETENTION_MS_CONFIG, "-1",
            TopicConfig.RETENTION_BYTES_CONFIG, "-1",
            TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, minIsr)));
    return new TopicSetup(specs);
  }

  public List<TopicSpec> specs() {
    return specs;
  }

  /** What one run changed: topics created and, per existing topic, the configs set. */
  public record Result(List<String> created, Map<String, Map<String, String>> altered) {
    public Result {
      created = List.copyOf(created);
      altered = Map.copyOf(altered);
    }

    public boolean changedNothing() {
      return created.isEmpty() && altered.isEmpty();
    }
  }

  /** Creates missing topics and aligns the configs of existing ones; idempotent. */
  public Result apply(Admin admin) {
    return withAdmin(() -> {
      Set<String> existing = admin.listTopics().names().get();
      List<String> created = create(admin, existing);
      awaitLeaders(admin, created);
      Map<String, Map<String, String>> altered = alignConfigs(admin, existing);
      checkCoPartitioning(admin);
      Result result = new Result(created, altered);
      if (result.changedNothing()) {
        log.info("topic setup: all {} topics already as specified", specs.size());
      } else {
        log.info("topic setup: created {}, changed configs {}", created, altered);
      }
      return result;
    });
  }

  /**
   * Aligns the configs of those topics of this setup that exist, and creates none: for topics
   * another component creates (Kafka Streams' changelogs), so that configs chosen after their
   * creation reach them too. Returns the configs set, per topic.
   */
  public Map<String, Map<String, String>> alignExisting(Admin admin) {
    return withAdmin(() -> {
      Map<String, Map<String, String>> altered = alignConfigs(admin, admin.listTopics().names().get());
      if (!altered.isEmpty()) {
        log.info("topic setup: changed configs {}", altered);
      }
      return altered;
    });
  }

  /** Admin calls whose futures are awaited, with their failures translated once. */
  private interface AdminWork<T> {
    T run() throws InterruptedException, ExecutionException;
  }

  private static <T> T withAdmin(AdminWork<T> work) {
    try {
      return work.run();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during topic setup", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("topic setup failed: " + e.getCause().getMessage(), e.getCause());
    }
  }

  private List<String> create(Admin admin, Set<String> existing) throws InterruptedException, ExecutionException {
    List<NewTopic> missing = specs.stream()
        .filter(spec -> !existing.contains(spec.name()))
        .map(spec -> new NewTopic(spec.name(), spec.partitions(), spec.replicationFactor()).configs(spec.configs()))
        .toList();
    List<String> created = new ArrayList<>();
    for (var entry : admin.createTopics(missing).values().entrySet()) {
      try {
        entry.getValue().get();
        created.add(entry.getKey());
      } catch (ExecutionException e) {
        // Another instance created it between our listing and our request: that is the goal.
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
      }
    }
    return created;
  }

  /**
   * Waits until every partition of the topics just created has a leader. Producing before that
   * gets NOT_LEADER_OR_FOLLOWER, and an idempotent producer's retries after such a start were seen
   * to be refused with OUT_OF_ORDER_SEQUENCE forever, losing the records of that batch.
   */
  private static void awaitLeaders(Admin admin, List<String> created) throws InterruptedException, ExecutionException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!created.isEmpty()) {
      if (haveLeaders(admin, created)) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("topics " + created + " have partitions without a leader after " + TIMEOUT);
      }
      Thread.sleep(50);
    }
  }

  /**
   * Every partition has a leader in the metadata, and that leader already serves it: ListOffsets
   * is answered by the leader's replica manager, which can lag the metadata for a moment; a
   * produce in that moment got NOT_LEADER_OR_FOLLOWER, and the idempotent producer's retry then
   * OUT_OF_ORDER_SEQUENCE without end.
   */
  private static boolean haveLeaders(Admin admin, List<String> topics) throws InterruptedException, ExecutionException {
    try {
      Map<String, TopicDescription> described = admin.describeTopics(topics).allTopicNames().get();
      boolean leaders = described.values().stream()
          .allMatch(topic -> topic.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty()));
      if (!leaders) {
        return false;
      }
      Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
      described.values().forEach(topic -> topic.partitions().forEach(p ->
          partitions.put(new TopicPartition(topic.name(), p.partition()), OffsetSpec.latest())));
      admin.listOffsets(partitions).all().get();
      return true;
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UnknownTopicOrPartitionException || e.getCause() instanceof NotLeaderOrFollowerException
          || e.getCause() instanceof LeaderNotAvailableException) {
        return false; // created, but not yet served by the broker we asked
      }
      throw e;
    }
  }

  private Map<String, Map<String, String>> alignConfigs(Admin admin, Set<String> existing)
      throws InterruptedException, ExecutionException {
    List<TopicSpec> toCheck = specs.stream().filter(spec -> existing.contains(spec.name())).toList();
    if (toCheck.isEmpty()) {
      return Map.of();
    }
    List<ConfigResource> resources = toCheck.stream()
        .map(spec -> new ConfigResource(ConfigResource.Type.TOPIC, spec.name()))
        .toList();
    Map<ConfigResource, Config> actual = admin.describeConfigs(resources).all().get();
    Map<ConfigResource, Collection<AlterConfigOp>> ops = new HashMap<>();
    Map<String, Map<String, String>> altered = new LinkedHashMap<>();
    for (TopicSpec spec : toCheck) {
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, spec.name());
      Config config = actual.get(resource);
      Map<String, String> changes = new LinkedHashMap<>();
      spec.configs().forEach((key, wanted) -> {
        ConfigEntry entry = config.get(key);
        if (entry == null || !wanted.equals(entry.value())) {
          changes.put(key, wanted);
        }
      });
      if (!changes.isEmpty()) {
        ops.put(resource, changes.entrySet().stream()
            .map(c -> new AlterConfigOp(new ConfigEntry(c.getKey(), c.getValue()), AlterConfigOp.OpType.SET))
            .collect(Collectors.toList()));
        altered.put(spec.name(), changes);
      }
    }
    if (!ops.isEmpty()) {
      admin.incrementalAlterConfigs(ops).all().get();
    }
    return altered;
  }

  private void checkCoPartitioning(Admin admin) throws InterruptedException, ExecutionException {
    List<String> names = CO_PARTITIONED.stream().map(Topic::name).toList();
    Map<String, TopicDescription> descriptions = admin.describeTopics(names).allTopicNames().get();
    Map<String, Integer> counts = new LinkedHashMap<>();
    names.forEach(name -> counts.put(name, descriptions.get(name).partitions().size()));
    if (counts.values().stream().distinct().count() > 1) {
      throw new IllegalStateException("topics " + names + " must have the same partition count to be joined by key,"
          + " but have " + counts + "; recreate or repartition them by hand");
    }
  }

  private static TopicSpec compacted(Topic<?, ?> topic, int partitions, short rf, String minIsr) {
    return new TopicSpec(topic.name(), partitions, rf, Map.of(
        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
        TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, minIsr));
  }

  private static TopicSpec deleted(Topic<?, ?> topic, int partitions, short rf, String minIsr, Duration retention) {
    return new TopicSpec(topic.name(), partitions, rf, Map.of(
        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
        TopicConfig.RETENTION_MS_CONFIG, millis(retention),
        TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, minIsr));
  }

  private static Map<String, String> merge(Map<String, String> a, Map<String, String> b) {
    Map<String, String> merged = new HashMap<>(a);
    merged.putAll(b);
    return merged;
  }

  private static String millis(Duration duration) {
    return Long.toString(duration.toMillis());
  }
}
