package dev.metering.alerts.processing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.alerts.AlertServiceConfig;
import dev.metering.config.Env;
import dev.metering.kafka.KafkaBroker;
import dev.metering.kafka.Transactions;
import dev.metering.records.KeyState;
import dev.metering.records.KeyStatus;
import dev.metering.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Loading the key statuses of partitions this instance comes to own, against a real broker. */
class KeyStatusLoaderIT {

  // the broker looks for transactions past their timeout every 500 ms instead of every 10 s
  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(1,
      Map.of("transaction.abort.timed.out.transaction.cleanup.interval.ms", "500"));

  @Test
  void shouldWaitForATransactionOpenAtTheLoadAndReadEverythingWrittenBeforeIt() throws Exception {
    // the last stable offset stops at an open (or just committed, markers unwritten) transaction:
    // a load to it left out the previous owner's last statuses, and what was committed after them
    ExecutorService loader = Executors.newSingleThreadExecutor();
    try (KafkaProducer<String, byte[]> previousOwner = transactional("previous-owner");
        KafkaProducer<String, byte[]> other = transactional("other-writer")) {
      previousOwner.beginTransaction();
      previousOwner.send(status("key-a", KeyState.SUSPENDED)).get();
      other.beginTransaction();
      other.send(status("key-b", KeyState.ACTIVE)).get();
      other.commitTransaction();

      Future<Map<String, KeyStatus>> load = loader.submit(() -> KeyStatusLoader.load(kafka.bootstrapServers(),
          Set.of(0)));

      assertThrows(TimeoutException.class, () -> load.get(2, TimeUnit.SECONDS),
          "the load waits while the previous owner's transaction is open");
      previousOwner.commitTransaction();
      Map<String, KeyStatus> loaded = load.get(30, TimeUnit.SECONDS);
      assertEquals(Set.of("key-a", "key-b"), loaded.keySet());
      assertEquals(KeyState.SUSPENDED, loaded.get("key-a").getState());
    } finally {
      loader.shutdownNow();
    }
  }

  @Test
  void shouldWaitForAnInstanceThatDiedInsideATransactionOnlyUntilItsShortTimeout() throws Exception {
    // an instance killed between beginning and committing a transaction leaves it open: the load,
    // like every read_committed reader of key-status (the gateways' suspensions), waits until the
    // broker aborts it, which the producer's default timeout put a minute away
    AlertServiceConfig config = AlertServiceConfig.from(new Env(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(), "ALERT_SERVICE_INSTANCE_ID", "died-in-a-transaction",
        "METERING_WEBHOOK_SIGNING_KEY", "0123456789abcdef0123456789abcdef")));
    try (KafkaProducer<byte[], byte[]> died = new KafkaProducer<>(AlertProcessor.producerProperties(config),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      died.initTransactions();
      died.beginTransaction();
      ProducerRecord<String, byte[]> suspension = status("key-c", KeyState.SUSPENDED);
      died.send(new ProducerRecord<>(suspension.topic(), suspension.key().getBytes(StandardCharsets.UTF_8),
          suspension.value())).get();
      long began = System.nanoTime();

      Map<String, KeyStatus> loaded = KeyStatusLoader.load(kafka.bootstrapServers(), Set.of(0));

      Duration waited = Duration.ofNanos(System.nanoTime() - began);
      assertFalse(loaded.containsKey("key-c"), "the broker aborted the dead instance's transaction");
      assertTrue(waited.compareTo(Duration.ofSeconds(25)) < 0, "waited " + waited + " for a transaction of "
          + Transactions.TIMEOUT + "; the producer's default of 60 s would hold it at least a minute");
    }
  }

  private static KafkaProducer<String, byte[]> transactional(String id) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, id);
    KafkaProducer<String, byte[]> producer = new KafkaProducer<>(props, new StringSerializer(),
        new ByteArraySerializer());
    producer.initTransactions();
    return producer;
  }

  private static ProducerRecord<String, byte[]> status(String key, KeyState state) {
    KeyStatus status = KeyStatus.newBuilder().setApiKeyId(key).setOrgId("org-1").setState(state).setReason("test")
        .setSuspendedUntil(null).setUpdatedAt(0L).build();
    return new ProducerRecord<>(Topics.KEY_STATUS.name(), key, Topics.KEY_STATUS.encode(status));
  }
}
