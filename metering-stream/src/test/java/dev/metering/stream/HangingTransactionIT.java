package dev.metering.stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.kafka.HangingTransaction;
import dev.metering.kafka.KafkaBroker;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.records.LimitEvent;
import dev.metering.records.LimitEventKind;
import dev.metering.schemas.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A transaction left hanging on an internal topic does not stop metering for good (CI, 2026-12-03,
 * BrokerRestartIT: after a broker restart an open transaction that no coordinator tracked stayed on
 * alert-rules-by-key-repartition, and an alert rule behind it never reached its key's task, so its
 * threshold never fired; another time a changelog's restoration never finished).
 */
class HangingTransactionIT {

  private static final int PARTITIONS = 2;

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(PARTITIONS, HangingTransaction.BROKER_CONFIG);

  @Test
  void shouldFireARuleWrittenBehindAHangingTransactionOnceItIsAborted() throws Exception {
    // Given: a running instance, and a transaction no coordinator tracks open on every partition of
    // the topic that carries alert rules to their keys' tasks
    String bootstrap = kafka.bootstrapServers();
    String applicationId = "hanging-transaction-it-" + UUID.randomUUID();
    try (MeteringApp app = TestCluster.startInstance(bootstrap, applicationId, Map.of());
        KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(bootstrap)) {
      assertTrue(app.awaitRunning(Duration.ofSeconds(60)), "RUNNING");
      for (int partition = 0; partition < PARTITIONS; partition++) {
        HangingTransaction.write(bootstrap, new TopicPartition(applicationId + "-alert-rules-by-key-repartition",
            partition), 7_000_000L + partition);
      }

      // When: a key with a limit gets a rule at 80%, then 90% of its limit in usage
      String keyId = "key-behind-a-hanging-transaction";
      producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), keyId,
          Topics.API_KEYS.encode(MeteringFixture.key(keyId, 1_000L, false))));
      producer.send(new ProducerRecord<>(Topics.ALERT_RULES.name(), "rule-80",
          Topics.ALERT_RULES.encode(MeteringFixture.rule("rule-80", keyId, 80))));
      producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), keyId,
          Topics.USAGE_EVENTS.encode(MeteringFixture.event(keyId, Instant.now(), 900))));
      producer.flush();

      // Then: the rule reaches the key's task once the hanging transactions are aborted, and fires
      List<ConsumerRecord<String, LimitEvent>> events = KafkaTestSupport.readCommitted(bootstrap,
          Topics.LIMIT_EVENTS.name(), new StringDeserializer(), Topics.LIMIT_EVENTS.valueSerde().deserializer(),
          Duration.ofSeconds(60), records -> records.stream().anyMatch(HangingTransactionIT::thresholdCrossed));
      assertTrue(events.stream().anyMatch(HangingTransactionIT::thresholdCrossed), "the 80% threshold crossed: "
          + events.stream().map(r -> r.value().getKind()).toList());
    }
  }

  private static boolean thresholdCrossed(ConsumerRecord<String, LimitEvent> record) {
    return record.value().getKind() == LimitEventKind.THRESHOLD_CROSSED && "rule-80".equals(record.value().getRuleId());
  }
}
