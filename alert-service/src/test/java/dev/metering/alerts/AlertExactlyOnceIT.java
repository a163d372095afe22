package dev.metering.alerts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.config.Env;
import dev.metering.kafka.KafkaBroker;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.records.AuditRecord;
import dev.metering.records.KeyState;
import dev.metering.records.KeyStatus;
import dev.metering.records.LimitEvent;
import dev.metering.records.LimitEventKind;
import dev.metering.schemas.Topics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Kill and restart: alert-service runs in a separate JVM that is killed with SIGKILL while it
 * processes; a new instance with the same instance id takes over. The committed output must hold
 * exactly one key-status change and one set of audit records per input event.
 */
class AlertExactlyOnceIT {

  private static final int KEYS = 2000;
  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(3);



  @Test
  void shouldWriteEachOutputExactlyOnceAcrossAKilledInstanceAndItsReplacement() throws Exception {
    Map<String, String> env = Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
        "METERING_TOPIC_PARTITIONS", "3",
        "ALERT_SERVICE_GROUP_ID", "alert-eos-it",
        "ALERT_SERVICE_INSTANCE_ID", "alert-eos-it-0",
        "ALERT_HTTP_BIND", "127.0.0.1",
        "ALERT_HTTP_PORT", "0",
        "METERING_WEBHOOK_SIGNING_KEY", "eos-it-webhook-signing-key-0123456789");
    String period = YearMonth.now(ZoneOffset.UTC).toString();
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
      for (int k = 0; k < KEYS; k++) {
        send(producer, event(LimitEventKind.LIMIT_BREACHED, "key-" + k, period));
      }
      producer.flush();

      Path log = Files.createTempFile("alert-victim", ".log");
      Process victim = KafkaTestSupport.startInOtherJvm(AlertServiceMain.class, env, log);
      try {
        KafkaTestSupport.await("the first instance to commit some progress", Duration.ofSeconds(90),
            () -> committed() >= 200);
      } finally {
        victim.destroyForcibly().waitFor();
      }
      long committedAtKill = committed();
      System.out.printf("killed the first alert-service with %d of %d limit events committed%n", committedAtKill, KEYS);
      assertTrue(committedAtKill < KEYS, "killed mid-stream");

      for (int k = 0; k < KEYS; k += 2) {
        send(producer, event(LimitEventKind.LIMIT_CLEARED, "key-" + k, period));
      }
      producer.flush();
    }

    try (AlertService replacement = AlertService.start(AlertServiceConfig.from(new Env(env)), Clock.systemUTC())) {
      KafkaTestSupport.await("every limit event processed", Duration.ofSeconds(120),
          () -> committed() == KEYS + KEYS / 2);
    }

    List<ConsumerRecord<String, KeyStatus>> statuses = KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(),
        Topics.KEY_STATUS.name(), new StringDeserializer(), Topics.KEY_STATUS.valueSerde().deserializer());
    Map<String, List<KeyState>> byKey = new HashMap<>();
    statuses.forEach(r -> byKey.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value().getState()));
    assertEquals(KEYS, byKey.size());
    for (int k = 0; k < KEYS; k++) {
      List<KeyState> expected = k % 2 == 0 ? List.of(KeyState.SUSPENDED, KeyState.ACTIVE) : List.of(KeyState.SUSPENDED);
      assertEquals(expected, byKey.get("key-" + k), "key-" + k);
    }
    List<AuditRecord> audit = new ArrayList<>();
    KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(), Topics.AUDIT_LOG.name(), new StringDeserializer(),
        Topics.AUDIT_LOG.valueSerde().deserializer()).forEach(r -> audit.add(r.value()));
    Map<String, Integer> byType = KafkaTestSupport.counts(audit.stream().map(AuditRecord::getEventType).toList());
    assertEquals(Map.of("limit_breached", KEYS, "key_suspended", KEYS, "key_reinstated", KEYS / 2), byType);
    assertEquals(audit.size(), audit.stream().map(AuditRecord::getId).distinct().count(), "no audit record twice");
  }

  private static long committed() {
    return KafkaTestSupport.committed(kafka.bootstrapServers(), "alert-eos-it", Topics.LIMIT_EVENTS.name());
  }

  private static LimitEvent event(LimitEventKind kind, String key, String period) {
    return LimitEvent.newBuilder()
        .setKind(kind).setOrgId("org-1").setApiKeyId(key).setPeriod(period).setUsedTokens(1000)
        .setLimitTokens(kind == LimitEventKind.LIMIT_CLEARED ? 5000 : 1000).setPercent(100.0).setHardLimit(true)
        .setDetectedAt(System.currentTimeMillis()).build();
  }

  private static void send(KafkaProducer<String, byte[]> producer, LimitEvent event) {
    producer.send(new ProducerRecord<>(Topics.LIMIT_EVENTS.name(), event.getApiKeyId(),
        Topics.LIMIT_EVENTS.encode(event)));
  }


}
