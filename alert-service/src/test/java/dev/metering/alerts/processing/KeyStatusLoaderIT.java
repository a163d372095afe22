package dev.metering.alerts.processing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.metering.kafka.KafkaBroker;
import dev.metering.records.KeyState;
import dev.metering.records.KeyStatus;
import dev.metering.schemas.Topics;
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

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(1);

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
