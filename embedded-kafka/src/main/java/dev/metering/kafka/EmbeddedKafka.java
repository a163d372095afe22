package dev.metering.kafka;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka cluster (one combined KRaft broker and controller) inside this JVM,
 * listening on a free loopback port. Its log directories are deleted on {@link #close()}.
 */
public final class EmbeddedKafka implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);

  /** What a one-broker cluster needs, or consumer groups, transactions and share groups hang. */
  static final Map<String, String> SINGLE_BROKER_CONFIG = Map.ofEntries(
      Map.entry("offsets.topic.replication.factor", "1"),
      Map.entry("offsets.topic.num.partitions", "4"),
      Map.entry("transaction.state.log.replication.factor", "1"),
      Map.entry("transaction.state.log.min.isr", "1"),
      Map.entry("transaction.state.log.num.partitions", "4"),
      Map.entry("share.coordinator.state.topic.replication.factor", "1"),
      Map.entry("share.coordinator.state.topic.min.isr", "1"),
      Map.entry("group.initial.rebalance.delay.ms", "0"),
      // Topics come from TopicSetup only, so a misspelt topic name fails instead of being created.
      Map.entry("auto.create.topics.enable", "false"));

  private final KafkaClusterTestKit cluster;
  private final String bootstrapServers;
  private final Path logDirs;

  private EmbeddedKafka(KafkaClusterTestKit cluster, Path logDirs) {
    this.cluster = cluster;
    this.logDirs = logDirs;
    this.bootstrapServers = cluster.bootstrapServers();
  }

  /** Starts a broker with the single-broker defaults. */
  public static EmbeddedKafka start() {
    return start(Map.of());
  }

  /** Starts a broker with the single-broker defaults overridden or extended by {@code brokerConfig}. */
  public static EmbeddedKafka start(Map<String, String> brokerConfig) {
    Objects.requireNonNull(brokerConfig, "brokerConfig");
    long started = System.nanoTime();
    KafkaClusterTestKit cluster = null;
    Path logDirs = null;
    try {
      // Our own directory, deleted in close(): the test kit's default temporary directory is
      // deleted by a JVM shutdown hook that can run while the broker is still stopping on Ctrl-C,
      // and a broker that loses its log directory halts the JVM.
      logDirs = Files.createTempDirectory("embedded-kafka");
      KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(
          new TestKitNodes.Builder().setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1)
              .setBaseDirectory(logDirs).build());
      SINGLE_BROKER_CONFIG.forEach(builder::setConfigProp);
      brokerConfig.forEach(builder::setConfigProp);
      cluster = builder.build();
      cluster.format();
      cluster.startup();
      cluster.waitForReadyBrokers();
      EmbeddedKafka kafka = new EmbeddedKafka(cluster, logDirs);
      log.info("in-JVM Kafka broker ready at {} in {} ms", kafka.bootstrapServers,
          (System.nanoTime() - started) / 1_000_000);
      return kafka;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closeQuietly(cluster, logDirs);
      throw new IllegalStateException("interrupted while starting the in-JVM Kafka broker", e);
    } catch (Exception e) {
      closeQuietly(cluster, logDirs);
      throw new IllegalStateException("cannot start the in-JVM Kafka broker: " + e.getMessage(), e);
    }
  }

  /** host:port of the broker's client listener. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /**
   * Stops the broker but keeps its controller and its logs, as an operator's broker restart or a
   * network cut does: clients lose every connection and cannot reconnect until {@link #startBroker()}.
   */
  public void stopBroker() {
    broker().shutdown();
    broker().awaitShutdown();
    log.info("in-JVM Kafka broker at {} stopped; its logs are kept", bootstrapServers);
  }

  /** Starts the broker stopped by {@link #stopBroker()} again, on the same address, with the same logs. */
  public void startBroker() {
    broker().startup();
    try {
      cluster.waitForReadyBrokers();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while restarting the in-JVM Kafka broker", e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot restart the in-JVM Kafka broker: " + e.getMessage(), e);
    }
    log.info("in-JVM Kafka broker at {} started again", bootstrapServers);
  }

  private kafka.server.BrokerServer broker() {
    return cluster.brokers().values().iterator().next();
  }

  /** Stops the broker and deletes its log directories. */
  @Override
  public void close() {
    try {
      cluster.close();
      deleteRecursively(logDirs);
      log.info("in-JVM Kafka broker at {} stopped", bootstrapServers);
    } catch (Exception e) {
      throw new IllegalStateException("cannot stop the in-JVM Kafka broker at " + bootstrapServers, e);
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  private static void closeQuietly(KafkaClusterTestKit cluster, Path logDirs) {
    try {
      if (cluster != null) {
        cluster.close();
      }
      deleteRecursively(logDirs);
    } catch (Exception suppressed) {
      log.warn("cannot close a broker that failed to start", suppressed);
    }
  }
}
