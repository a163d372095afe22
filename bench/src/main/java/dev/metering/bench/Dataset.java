package dev.metering.bench;

import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The benchmark's input: {@code events} usage events of {@code keys} keys of one org and 20
 * models, dated over the last 30 days in time order (as gateways would send them), with 1% of
 * them sent twice.
 */
final class Dataset {

  static final String ORG = "org-bench";
  private static final String[] MODELS = {"claude-opus-4", "claude-opus-4-5", "claude-sonnet-4", "claude-sonnet-4-5",
      "claude-haiku-4-5", "claude-3-5-haiku", "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001",
      "claude-opus-4-5-20251101", "claude-sonnet-4-20250514", "model-a", "model-b", "model-c", "model-d", "model-e",
      "model-f", "model-g", "model-h", "model-i", "model-j"};

  private Dataset() {
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

  static String keyId(int k) {
    return "bk-" + k;
  }

  /** Produces the events; returns how many records were sent, duplicates included; fails if any was not written. */
  static long produce(String bootstrap, int events, int keys, long seed) {
    Random random = new Random(seed);
    long end = System.currentTimeMillis() - Duration.ofMinutes(1).toMillis();
    long start = end - Duration.ofDays(30).toMillis();
    long sent = 0;
    java.util.concurrent.atomic.AtomicLong failed = new java.util.concurrent.atomic.AtomicLong();
    org.apache.kafka.clients.producer.Callback count = (metadata, error) -> {
      if (error != null) {
        failed.incrementAndGet();
      }
    };
    byte[] previous = null;
    String previousKey = null;
    try (KafkaProducer<String, byte[]> producer = producer(bootstrap)) {
      for (int i = 0; i < events; i++) {
        String key = keyId(random.nextInt(keys));
        long time = start + (long) ((double) i / events * (end - start)) + random.nextInt(60_000);
        UsageEvent event = UsageEvent.newBuilder()
            .setEventId(new UUID(seed, i).toString()).setOrgId(ORG).setApiKeyId(key)
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

  static ApiKey key(String id, String secretHash, Long limit, boolean hard) {
    return ApiKey.newBuilder().setId(id).setOrgId(ORG).setName(id).setKeyPrefix("sk-mtr-bnch").setSecretHash(secretHash)
        .setPermissions(List.of("messages:write")).setMaxTokensPerMonth(limit).setHardLimit(hard)
        .setStatus(ApiKeyStatus.ACTIVE).setCreatedAt(0L).setCreatedBy("bench@example.com").setUpdatedAt(0L).build();
  }
}
