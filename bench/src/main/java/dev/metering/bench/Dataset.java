package dev.metering.bench;

import dev.metering.records.AlertRule;
import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.OrgBudget;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The benchmark's input, shaped like a provider's traffic: {@code keys} keys in {@link #ORGS}
 * organisations, every key registered (api-keys) with a monthly limit and two alert rules, and
 * every organisation with a budget (org-budgets) and a rule on it, so the limit paths (key lookup,
 * rules, month evaluation, and the same for the org) run for every event; organisations and, within
 * each, keys drawn from Zipf distributions (s = 1.1), so a few orgs and keys carry most traffic
 * and the org path sees many orgs; 20 models; events dated over the last 30 days in time order (as
 * gateways would send them), with 1% of them sent twice.
 */
final class Dataset {

  static final int ORGS = 120;
  /** The monthly limit of every key: the busiest keys cross their rules' 50% and 80% and the limit. */
  static final long KEY_LIMIT = 2_000_000;
  /** Every organisation's monthly budget, in tokens and dollars: the busiest orgs cross their rule's 80% and it. */
  static final long ORG_TOKEN_BUDGET = 50_000_000;
  static final long ORG_COST_BUDGET_MICROS = 200_000_000;
  private static final double ZIPF_S = 1.1;
  private static final String[] MODELS = {"claude-opus-4", "claude-opus-4-5", "claude-sonnet-4", "claude-sonnet-4-5",
      "claude-haiku-4-5", "claude-3-5-haiku", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001",
      "claude-opus-4-5-20251101", "claude-sonnet-4-20250514", "model-a", "model-b", "model-c", "model-d", "model-e",
      "model-f", "model-g", "model-h", "model-i", "model-j"};

  private final int keys;
  private final int[] orgOfKey;
  private final int[][] keysOfOrg;
  private final double[] orgWeights;
  private final double[][] keyWeights;

  /** {@code keys} keys (at least one per org), assigned to orgs by the orgs' Zipf weights, deterministically. */
  Dataset(int keys) {
    if (keys < ORGS) {
      throw new IllegalArgumentException("at least " + ORGS + " keys, one per org");
    }
    this.keys = keys;
    orgWeights = cumulativeZipf(ORGS);
    orgOfKey = new int[keys];
    Random assign = new Random(17);
    int[] counts = new int[ORGS];
    for (int k = 0; k < keys; k++) {
      orgOfKey[k] = k < ORGS ? k : pick(orgWeights, assign);
      counts[orgOfKey[k]]++;
    }
    keysOfOrg = new int[ORGS][];
    for (int o = 0; o < ORGS; o++) {
      keysOfOrg[o] = new int[counts[o]];
    }
    int[] filled = new int[ORGS];
    for (int k = 0; k < keys; k++) {
      keysOfOrg[orgOfKey[k]][filled[orgOfKey[k]]++] = k;
    }
    keyWeights = new double[ORGS][];
    for (int o = 0; o < ORGS; o++) {
      keyWeights[o] = cumulativeZipf(counts[o]);
    }
  }

  static String keyId(int k) {
    return "bk-" + k;
  }

  static String orgId(int o) {
    return "org-" + o;
  }

  String orgOf(int key) {
    return orgId(orgOfKey[key]);
  }

  /** The busiest organisation (Zipf rank 1) and how many keys it has. */
  String topOrg() {
    return orgId(0);
  }

  int keysOfTopOrg() {
    return keysOfOrg[0].length;
  }

  /** A key drawn as the traffic draws them: an org by its weight, then one of its keys by theirs. */
  int nextKey(Random random) {
    int org = pick(orgWeights, random);
    return keysOfOrg[org][pick(keyWeights[org], random)];
  }

  /** A key drawn uniformly, for queries that should not favour hot keys. */
  int anyKey(Random random) {
    return random.nextInt(keys);
  }

  static KafkaProducer<String, byte[]> producer(String bootstrap) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    props.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 128L * 1024 * 1024);
    return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
  }

  /**
   * Registers every key with its limit and two alert rules (50% and 80%), and every organisation
   * with its budget and a rule on it (80%), as admin-api would,
   * dated a day before the first event: keys exist before they are used, and Kafka Streams
   * processes a task's records in timestamp order, so records dated now would reach the key tables
   * only after every (older) usage event had been metered without them.
   */
  void register(String bootstrap) {
    long before = System.currentTimeMillis() - Duration.ofDays(31).toMillis();
    AtomicLong failed = new AtomicLong();
    Callback count = (metadata, error) -> {
      if (error != null) {
        failed.incrementAndGet();
      }
    };
    try (KafkaProducer<String, byte[]> producer = producer(bootstrap)) {
      for (int k = 0; k < keys; k++) {
        String id = keyId(k);
        producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), null, before, id,
            Topics.API_KEYS.encode(key(id, orgOf(k), "unused-hash-" + k, KEY_LIMIT, false))), count);
        for (int percent : new int[] {50, 80}) {
          String ruleId = "rule-" + k + "-" + percent;
          producer.send(new ProducerRecord<>(Topics.ALERT_RULES.name(), null, before, ruleId, Topics.ALERT_RULES.encode(
              AlertRule.newBuilder().setId(ruleId).setOrgId(orgOf(k)).setName(percent + "% of " + id).setApiKeyId(id)
                  .setThresholdPercent(percent).setNotificationEmail("team-" + orgOf(k) + "@example.com")
                  .setCreatedBy("bench@example.com").setCreatedAt(0L).build())), count);
        }
      }
      for (int org = 0; org < ORGS; org++) {
        String orgId = orgId(org);
        producer.send(new ProducerRecord<>(Topics.ORG_BUDGETS.name(), null, before, orgId, Topics.ORG_BUDGETS.encode(
            OrgBudget.newBuilder().setOrgId(orgId).setMaxTokensPerMonth(ORG_TOKEN_BUDGET)
                .setMaxCostMicrosPerMonth(ORG_COST_BUDGET_MICROS).setHardLimit(false).setUpdatedBy("bench@example.com")
                .setUpdatedAt(0L).build())), count);
        String ruleId = "rule-" + orgId + "-80";
        producer.send(new ProducerRecord<>(Topics.ALERT_RULES.name(), null, before, ruleId, Topics.ALERT_RULES.encode(
            AlertRule.newBuilder().setId(ruleId).setOrgId(orgId).setName("80% of the budget").setApiKeyId(null)
                .setThresholdPercent(80).setNotificationEmail("finance-" + orgId + "@example.com")
                .setCreatedBy("bench@example.com").setCreatedAt(0L).build())), count);
      }
      producer.flush();
    }
    if (failed.get() > 0) {
      throw new IllegalStateException(failed.get() + " key, rule or budget records were not written");
    }
  }

  /** Produces the events; returns how many records were sent, duplicates included; fails if any was not written. */
  long produce(String bootstrap, int events, long seed) {
    Random random = new Random(seed);
    long end = System.currentTimeMillis() - Duration.ofMinutes(1).toMillis();
    long start = end - Duration.ofDays(30).toMillis();
    long sent = 0;
    AtomicLong failed = new AtomicLong();
    Callback count = (metadata, error) -> {
      if (error != null) {
        failed.incrementAndGet();
      }
    };
    byte[] previous = null;
    String previousKey = null;
    try (KafkaProducer<String, byte[]> producer = producer(bootstrap)) {
      for (int i = 0; i < events; i++) {
        int k = nextKey(random);
        String key = keyId(k);
        long time = start + (long) ((double) i / events * (end - start)) + random.nextInt(60_000);
        UsageEvent event = UsageEvent.newBuilder()
            .setEventId(new UUID(seed, i).toString()).setOrgId(orgOf(k)).setApiKeyId(key)
            .setModel(MODELS[random.nextInt(MODELS.length)])
            .setInputTokens(50 + random.nextInt(4000)).setOutputTokens(random.nextInt(1200))
            .setCacheCreationInputTokens(random.nextInt(10) == 0 ? random.nextInt(2000) : 0)
            .setCacheReadInputTokens(random.nextInt(3) == 0 ? random.nextInt(6000) : 0)
            .setTimestamp(Math.min(time, end)).setGatewayId("bench").build();
        byte[] bytes = Topics.USAGE_EVENTS.encode(event);
        producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), key, bytes), count);
        sent++;
        if (previous != null && random.nextInt(100) == 0) {
          producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), previousKey, previous), count);
          sent++;
        }
        previous = bytes;
        previousKey = key;
      }
      producer.flush();
    }
    if (failed.get() > 0) {
      throw new IllegalStateException(failed.get() + " of " + sent + " benchmark events were not written");
    }
    return sent;
  }

  static ApiKey key(String id, String orgId, String secretHash, Long limit, boolean hard) {
    return ApiKey.newBuilder().setId(id).setOrgId(orgId).setName(id).setKeyPrefix("sk-mtr-bnch")
        .setSecretHash(secretHash).setPermissions(List.of("messages:write")).setMaxTokensPerMonth(limit)
        .setHardLimit(hard).setStatus(ApiKeyStatus.ACTIVE).setCreatedAt(0L).setCreatedBy("bench@example.com")
        .setUpdatedAt(0L).build();
  }

  /** Cumulative Zipf weights of ranks 1..n, normalised to end at 1. */
  private static double[] cumulativeZipf(int n) {
    double[] cumulative = new double[n];
    double sum = 0;
    for (int rank = 1; rank <= n; rank++) {
      sum += 1 / Math.pow(rank, ZIPF_S);
      cumulative[rank - 1] = sum;
    }
    for (int i = 0; i < n; i++) {
      cumulative[i] /= sum;
    }
    return cumulative;
  }

  private static int pick(double[] cumulative, Random random) {
    int found = Arrays.binarySearch(cumulative, random.nextDouble());
    return Math.min(cumulative.length - 1, found >= 0 ? found : -found - 1);
  }
}
