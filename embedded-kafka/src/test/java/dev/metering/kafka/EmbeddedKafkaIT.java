package dev.metering.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaIT {

  private static final int PARTITIONS = 3;

  private static EmbeddedKafka kafka;
  private static Admin admin;
  private static long startMillis;

  @BeforeAll
  static void startBroker() {
    long started = System.nanoTime();
    kafka = EmbeddedKafka.start();
    startMillis = (System.nanoTime() - started) / 1_000_000;
    admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
    // every test runs alone and in any order: the shared broker has the topics from the start
    TopicSetup.standard(PARTITIONS, (short) 1).apply(admin);
  }

  @AfterAll
  static void stopBroker() {
    if (admin != null) {
      admin.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void shouldListenOnLoopback() {
    System.out.printf("in-JVM broker started in %d ms at %s%n", startMillis, kafka.bootstrapServers());
    String host = kafka.bootstrapServers().split(",")[0].replaceAll(":\\d+$", "");
    assertTrue(host.equals("localhost") || host.startsWith("127."), kafka.bootstrapServers());
  }

  @Test
  void shouldCreateEveryTopicOnceAndChangeNothingOnTheSecondRun() throws Exception {
    TopicSetup setup = TopicSetup.standard(PARTITIONS, (short) 1);
    try (EmbeddedKafka empty = EmbeddedKafka.start();
        Admin fresh = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, empty.bootstrapServers()))) {

      TopicSetup.Result first = setup.apply(fresh);
      TopicSetup.Result second = setup.apply(fresh);

      List<String> expected = Topics.ALL.stream().map(t -> t.name()).sorted().toList();
      assertEquals(expected, first.created().stream().sorted().toList());
      assertTrue(second.changedNothing(), "second run changed " + second);
      var descriptions = fresh.describeTopics(expected).allTopicNames().get();
      descriptions.values().forEach(d -> assertEquals(PARTITIONS, d.partitions().size(), d.name()));
    }
  }

  @Test
  void shouldSetTheSpecifiedConfigsOnEveryTopic() throws Exception {
    Map<String, String> usageEvents = topicConfig(Topics.USAGE_EVENTS.name());
    Map<String, String> apiKeys = topicConfig(Topics.API_KEYS.name());
    Map<String, String> auditLog = topicConfig(Topics.AUDIT_LOG.name());

    assertEquals("delete", usageEvents.get(TopicConfig.CLEANUP_POLICY_CONFIG));
    assertEquals("LogAppendTime", usageEvents.get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG));
    assertEquals(Long.toString(Duration.ofDays(14).toMillis()), usageEvents.get(TopicConfig.RETENTION_MS_CONFIG));
    assertEquals("compact", apiKeys.get(TopicConfig.CLEANUP_POLICY_CONFIG));
    assertEquals("-1", auditLog.get(TopicConfig.RETENTION_MS_CONFIG));
    for (TopicSpec spec : TopicSetup.standard(PARTITIONS, (short) 1).specs()) {
      Map<String, String> actual = topicConfig(spec.name());
      spec.configs().forEach((key, value) -> assertEquals(value, actual.get(key), spec.name() + " " + key));
    }
  }

  @Test
  void shouldRestoreAConfigChangedByHand() throws Exception {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, Topics.LIMIT_EVENTS.name());
    admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(
        new ConfigEntry(TopicConfig.RETENTION_MS_CONFIG, "1000"), AlterConfigOp.OpType.SET)))).all().get();
    // the broker applies config changes from the metadata log asynchronously
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!"1000".equals(topicConfig(Topics.LIMIT_EVENTS.name()).get(TopicConfig.RETENTION_MS_CONFIG))) {
      assertTrue(System.nanoTime() < deadline, "the hand-made change never became visible");
    }

    TopicSetup.Result result = TopicSetup.standard(PARTITIONS, (short) 1).apply(admin);

    assertEquals(Map.of(Topics.LIMIT_EVENTS.name(),
        Map.of(TopicConfig.RETENTION_MS_CONFIG, Long.toString(Duration.ofDays(30).toMillis()))), result.altered());
    assertTrue(result.created().isEmpty());
  }

  @Test
  void shouldProduceAndConsumeAUsageEventWithTheSerde() {
    UsageEvent sent = UsageEvent.newBuilder()
        .setEventId(UUID.randomUUID().toString()).setOrgId("org-1").setApiKeyId("key-1")
        .setModel("claude-sonnet-4").setInputTokens(100).setOutputTokens(50)
        .setCacheCreationInputTokens(0).setCacheReadInputTokens(25)
        .setTimestamp(System.currentTimeMillis()).setGatewayId("gw-1").build();
    Properties producerProps = new Properties();
    producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    try (var producer = new KafkaProducer<>(producerProps,
        Topics.USAGE_EVENTS.keySerde().serializer(), Topics.USAGE_EVENTS.valueSerde().serializer())) {
      producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), sent.getApiKeyId(), sent));
      producer.flush();
    }

    List<ConsumerRecord<String, UsageEvent>> received = new ArrayList<>();
    Properties consumerProps = new Properties();
    consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID());
    consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    try (var consumer = new KafkaConsumer<>(consumerProps,
        Topics.USAGE_EVENTS.keySerde().deserializer(), Topics.USAGE_EVENTS.valueSerde().deserializer())) {
      consumer.subscribe(List.of(Topics.USAGE_EVENTS.name()));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (received.isEmpty() && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(received::add);
      }
    }

    assertEquals(1, received.size());
    assertEquals("key-1", received.get(0).key());
    assertEquals(sent, received.get(0).value());
  }

  @Test
  void shouldFreeItsPortWhenClosed() throws IOException {
    EmbeddedKafka closing = EmbeddedKafka.start();
    String bootstrap = closing.bootstrapServers();
    int port = Integer.parseInt(bootstrap.substring(bootstrap.lastIndexOf(':') + 1));

    closing.close();

    try (ServerSocket socket = new ServerSocket()) {
      socket.bind(new InetSocketAddress("127.0.0.1", port));
      assertTrue(socket.isBound());
    }
  }

  private static Map<String, String> topicConfig(String topic) throws Exception {
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config config = admin.describeConfigs(List.of(resource)).all().get().get(resource);
    Map<String, String> values = new java.util.HashMap<>();
    config.entries().forEach(e -> values.put(e.name(), e.value()));
    return values;
  }
}
