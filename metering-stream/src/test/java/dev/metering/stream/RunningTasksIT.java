package dev.metering.stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.kafka.KafkaBroker;
import dev.metering.kafka.KafkaTestSupport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Queries must not read a store whose task is being restored: Kafka Streams 4.3 serves the stores of
 * an active task in its state updater too, where a task restores after it was found corrupted
 * while its stream thread runs on. {@link RunningTasks} calls a task readable only from the
 * initialisation of its processors, which Kafka Streams does once the restoration is complete, to
 * their close.
 */
class RunningTasksIT {

  private static final String INPUT = "running-tasks-in";
  private static final String STORE = "counts";

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(1);

  @TempDir
  Path state;

  @Test
  void shouldCallATaskReadableOnlyOnceItsStoresAreRestoredAndUntilItCloses() throws Exception {
    try (Admin admin = Admin.create(KafkaTestSupport.adminConfig(kafka.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(INPUT, 1, (short) 1))).all().get();
    }
    RunningTasks running = new RunningTasks();
    StreamsBuilder builder = new StreamsBuilder();
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(),
        Serdes.Long()));
    builder.stream(INPUT, Consumed.with(Serdes.String(), Serdes.String()))
        .process(running.reporting(() -> new Processor<String, String, Void, Void>() {
          private KeyValueStore<String, Long> counts;

          @Override
          public void init(ProcessorContext<Void, Void> context) {
            counts = context.getStateStore(STORE);
          }

          @Override
          public void process(Record<String, String> record) {
            Long count = counts.get(record.key());
            counts.put(record.key(), count == null ? 1 : count + 1);
          }
        }), STORE);
    Topology topology = builder.build();
    RunningTasks.Readable readable = running.readable(topology.describe());
    assertFalse(readable.test(STORE, 0), "nothing readable before the start");

    try (KafkaStreams first = new KafkaStreams(topology, settings(state.resolve("first")))) {
      first.start();
      for (int i = 0; i < 10; i++) {
        send("key-a", "call " + i);
      }
      KafkaTestSupport.await("the ten calls counted and readable", Duration.ofSeconds(60),
          () -> readable.test(STORE, 0) && Long.valueOf(10).equals(store(first).get("key-a")));
      long closesWhileRunning = readable.closes();
      // leaving the group, so the next instance need not wait for this one's session to time out
      first.close(CloseOptions.timeout(Duration.ofSeconds(30))
          .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
      assertFalse(readable.test(STORE, 0), "not readable once closed");
      assertTrue(readable.closes() > closesWhileRunning, "the close counted, so a read it overlapped is refused");
    }

    // an instance without the local state: it restores the store from its changelog, held here
    CountDownLatch restoring = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (KafkaStreams second = new KafkaStreams(topology, settings(state.resolve("second")))) {
      second.setGlobalStateRestoreListener(new StateRestoreListener() {
        @Override
        public void onRestoreStart(TopicPartition changelog, String store, long start, long end) {
          restoring.countDown();
          try {
            release.await(60, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }

        @Override
        public void onBatchRestored(TopicPartition changelog, String store, long batchEnd, long restored) {
        }

        @Override
        public void onRestoreEnd(TopicPartition changelog, String store, long restored) {
        }
      });
      second.start();
      assertTrue(restoring.await(60, TimeUnit.SECONDS), "the store being restored");
      try {
        assertFalse(readable.test(STORE, 0), "not readable while restored");
      } finally {
        release.countDown();
      }
      KafkaTestSupport.await("readable once restored, with every call", Duration.ofSeconds(60),
          () -> readable.test(STORE, 0) && Long.valueOf(10).equals(store(second).get("key-a")));
    }
  }

  private static ReadOnlyKeyValueStore<String, Long> store(KafkaStreams streams) {
    return streams.store(StoreQueryParameters.fromNameAndType(STORE, QueryableStoreTypes.<String, Long>keyValueStore())
        .withPartition(0));
  }

  private static Properties settings(Path stateDir) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "running-tasks-it");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
    return props;
  }

  private static void send(String key, String value) throws Exception {
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
      producer.send(new ProducerRecord<>(INPUT, key, value.getBytes(StandardCharsets.UTF_8))).get();
    }
  }
}
