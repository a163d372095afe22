package dev.metering.config;

import dev.metering.kafka.TopicSetup;
import java.util.Objects;

/**
 * Where the cluster is and how the contract's topics are laid out on it; shared by every service.
 *
 * @param bootstrapServers {@code KAFKA_BOOTSTRAP_SERVERS}, default {@code localhost:9092}
 * @param partitions {@code METERING_TOPIC_PARTITIONS}, default 6, the same for every topic so
 *     usage-events and api-keys stay co-partitioned
 * @param replicationFactor {@code METERING_TOPIC_REPLICATION_FACTOR}, default 1 (a local broker);
 *     3 in production
 */
public record KafkaSettings(String bootstrapServers, int partitions, short replicationFactor) {

  public KafkaSettings {
    Objects.requireNonNull(bootstrapServers, "bootstrapServers");
  }

  public static KafkaSettings from(Env env) {
    return new KafkaSettings(
        env.string("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
        env.intInRange("METERING_TOPIC_PARTITIONS", 6, 1, 10_000),
        (short) env.intInRange("METERING_TOPIC_REPLICATION_FACTOR", 1, 1, 7));
  }

  public TopicSetup topicSetup() {
    return TopicSetup.standard(partitions, replicationFactor);
  }

  /** Creates missing topics and aligns their configs: what every service does at start-up. */
  public TopicSetup.Result ensureTopics() {
    try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(
        java.util.Map.of(org.apache.kafka.clients.admin.AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
      return topicSetup().apply(admin);
    }
  }
}
