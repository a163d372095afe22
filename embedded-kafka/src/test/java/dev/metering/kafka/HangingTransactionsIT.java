package dev.metering.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.AbortTransactionOptions;
import org.apache.kafka.clients.admin.AbortTransactionResult;
import org.apache.kafka.clients.admin.AbortTransactionSpec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ForwardingAdmin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Hanging transactions against a real broker, made as {@link HangingTransaction} says. */
class HangingTransactionsIT {

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(1, HangingTransaction.BROKER_CONFIG);

  private Admin admin;

  @BeforeEach
  void connect() {
    admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
  }

  @AfterEach
  void disconnect() {
    admin.close();
  }

  @Test
  void shouldAbortATransactionNoCoordinatorTracksSoReadCommittedReadersGoOn() throws Exception {
    // Given: an open transaction no coordinator knows, and a record written after it
    Ghost ghost = hangingBeforeARecord();
    TopicPartition partition = ghost.partition();
    assertEquals(List.of(), readCommitted(partition, Duration.ofSeconds(2)), "held back behind the open transaction");
    HangingTransactions hanging = new HangingTransactions(admin, partition.topic()::equals, Duration.ZERO,
        new SimpleMeterRegistry());

    // When: it is found hanging twice
    List<HangingTransactions.Open> first = hanging.check();
    List<HangingTransactions.Open> second = hanging.check();

    // Then: aborted at the second check, and readers go on past it
    assertEquals(List.of(), first, "the first sighting only notes it");
    assertEquals(List.of(new HangingTransactions.Open(partition, ghost.producerId(), 0, 0)), second);
    assertEquals(List.of("after"), readCommitted(partition, Duration.ofSeconds(30)));
  }

  @Test
  void shouldKeepTryingAndShowingATransactionTheClusterRefusesToAbort() throws Exception {
    // Given: a hanging transaction, and a cluster that refuses this client's aborts for now (writing
    // the marker takes ALTER on the cluster, which an application's principal often lacks)
    Ghost ghost = hangingBeforeARecord();
    TopicPartition partition = ghost.partition();
    AtomicBoolean refused = new AtomicBoolean(true);
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    try (Admin refusing = new ForwardingAdmin(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
        kafka.bootstrapServers())) {
      @Override
      public AbortTransactionResult abortTransaction(AbortTransactionSpec spec, AbortTransactionOptions options) {
        // while refused, the marker goes to a partition the broker does not have, and fails there
        return refused.get() ? super.abortTransaction(new AbortTransactionSpec(new TopicPartition("no-such-topic", 0),
            spec.producerId(), spec.producerEpoch(), spec.coordinatorEpoch()), options.timeoutMs(1_000))
            : super.abortTransaction(spec, options);
      }
    }) {
      HangingTransactions hanging = new HangingTransactions(refusing, partition.topic()::equals, Duration.ZERO, metrics);

      // When: it is found hanging while its aborts are refused, then once they are not
      List<HangingTransactions.Open> whileRefused = new ArrayList<>(hanging.check());
      whileRefused.addAll(hanging.check());
      whileRefused.addAll(hanging.check());
      double foundWhileRefused = metrics.get("kafka.hanging.transactions.found").gauge().value();
      refused.set(false);
      List<HangingTransactions.Open> once = hanging.check();

      // Then: each refusal counted and the transaction kept in view, without failing the check; then aborted
      assertEquals(List.of(), whileRefused);
      assertEquals(1.0, foundWhileRefused, "shown for an operator while it stays");
      assertEquals(2.0, metrics.get("kafka.hanging.transactions.abort.failures").counter().count());
      assertEquals(List.of(new HangingTransactions.Open(partition, ghost.producerId(), 0, 0)), once);
      assertEquals(0.0, metrics.get("kafka.hanging.transactions.found").gauge().value());
      assertEquals(List.of("after"), readCommitted(partition, Duration.ofSeconds(30)));
    }
  }

  @Test
  void shouldLeaveATransactionItsCoordinatorTracksAlone() throws Exception {
    // Given: a producer's transaction, open with a record written
    String topic = topic();
    TopicPartition partition = new TopicPartition(topic, 0);
    try (KafkaProducer<String, String> producer = producer(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
        "tx-" + UUID.randomUUID()))) {
      producer.initTransactions();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(topic, 0, "k", "in a transaction")).get();
      HangingTransactions hanging = new HangingTransactions(admin, topic::equals, Duration.ZERO,
          new SimpleMeterRegistry());

      // When: checks run while it is open
      List<HangingTransactions.Open> aborted = new ArrayList<>(hanging.check());
      aborted.addAll(hanging.check());
      aborted.addAll(hanging.check());

      // Then: nothing aborted, and its commit is read
      assertEquals(List.of(), aborted);
      producer.commitTransaction();
    }
    assertEquals(List.of("in a transaction"), readCommitted(partition, Duration.ofSeconds(30)));
  }

  /** A producer id no coordinator knows, with a transaction open on partition 0 of a topic of its own. */
  private record Ghost(TopicPartition partition, long producerId) {
  }

  /** A ghost's transaction, and the record "after" written behind it. */
  private Ghost hangingBeforeARecord() throws Exception {
    TopicPartition partition = new TopicPartition(topic(), 0);
    long producerId = 1_000_000L + System.nanoTime() % 1_000_000L;
    HangingTransaction.write(kafka.bootstrapServers(), partition, producerId);
    try (KafkaProducer<String, String> producer = producer(Map.of())) {
      producer.send(new ProducerRecord<>(partition.topic(), 0, "k", "after")).get();
    }
    return new Ghost(partition, producerId);
  }

  private String topic() throws Exception {
    String topic = "hanging-" + UUID.randomUUID();
    admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
    return topic;
  }

  private static KafkaProducer<String, String> producer(Map<String, Object> extra) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.putAll(extra);
    return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
  }

  /** What a read_committed consumer reads from the partition within {@code within} (all it can, if it is held back). */
  private static List<String> readCommitted(TopicPartition partition, Duration within) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<String> values = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
        new StringDeserializer())) {
      consumer.assign(List.of(partition));
      consumer.seekToBeginning(List.of(partition));
      long deadline = System.nanoTime() + within.toNanos();
      while (values.isEmpty() && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(100))) {
          values.add(record.value());
        }
      }
    }
    return values;
  }
}
