package dev.metering.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.kafka.KafkaBroker;
import dev.metering.kafka.KafkaTestSupport;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka Streams keeps the group member of a static instance's stream thread that stopped for the
 * session timeout (45 s), its partitions assigned and unprocessed, awaiting a return that never
 * comes for a thread replaced after a failure, or numbered beyond the threads of a restart.
 */
class StaticMembersIT {

  /**
   * Under the 45 s session timeout the partitions waited for before (about 42 s once the test has
   * started), with room for a slow machine: the removal makes it a few seconds.
   */
  private static final Duration PROMPTLY = Duration.ofSeconds(30);

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(1);

  @TempDir
  Path state;

  @Test
  void shouldHandTheReplacedThreadsPartitionsToItsReplacementPromptly() throws Exception {
    createTopics("replaced-in", 1, "replaced-out");
    AtomicBoolean failOnce = new AtomicBoolean(true);
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream("replaced-in", Consumed.with(Serdes.String(), Serdes.String()))
        .peek((key, value) -> {
          if (value.equals("fail") && failOnce.getAndSet(false)) {
            throw new NotEnoughReplicasException("the cluster out of reach (test)");
          }
        })
        .to("replaced-out", Produced.with(Serdes.String(), Serdes.String()));
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    try (StaticMembers members = new StaticMembers(kafka.bootstrapServers(), "static-replaced", "instance-a");
        KafkaStreams streams = new KafkaStreams(builder.build(), settings("static-replaced", "instance-a", 1))) {
      streams.setUncaughtExceptionHandler(new ThreadFailures(metrics, members::replaced));
      streams.start();
      send("replaced-in", "before");
      KafkaTestSupport.await("the first record through", Duration.ofSeconds(60),
          () -> read("replaced-out").contains("before"));

      send("replaced-in", "fail");
      send("replaced-in", "after");
      KafkaTestSupport.await("the records after the failure through, by the new thread", PROMPTLY,
          () -> read("replaced-out").containsAll(List.of("fail", "after")));
      assertEquals(1.0, metrics.get("metering.stream.threads.replaced").counter().count());
    }
  }

  @Test
  void shouldHandOverAtStartThePartitionsOfMembersBeyondTheThreadCount() throws Exception {
    createTopics("restart-in", 3, "restart-out");
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream("restart-in", Consumed.with(Serdes.String(), Serdes.String()))
        .to("restart-out", Produced.with(Serdes.String(), Serdes.String()));
    // a run with three threads (as after a replacement: instance-b-1, -2 and -3) stops, staying in the group
    try (KafkaStreams first = new KafkaStreams(builder.build(), settings("static-restart", "instance-b", 3))) {
      first.start();
      for (int partition = 0; partition < 3; partition++) {
        send("restart-in", partition, "first-" + partition);
      }
      KafkaTestSupport.await("every partition processed", Duration.ofSeconds(60),
          () -> read("restart-out").size() == 3);
    }
    // the next run has two: instance-b-3 would hold its partition until its session timed out
    try (StaticMembers members = new StaticMembers(kafka.bootstrapServers(), "static-restart", "instance-b");
        KafkaStreams second = new KafkaStreams(builder.build(), settings("static-restart", "instance-b", 2))) {
      members.removeBeyond(2);
      second.start();
      for (int partition = 0; partition < 3; partition++) {
        send("restart-in", partition, "second-" + partition);
      }
      KafkaTestSupport.await("every partition processed after the restart", PROMPTLY,
          () -> read("restart-out").size() == 6);
    }
  }

  @Test
  void shouldNameTheMemberOfAStreamThreadAsKafkaStreamsDoes() {
    try (StaticMembers members = new StaticMembers(kafka.bootstrapServers(), "any", "instance-c")) {
      assertEquals("instance-c-3", members.memberOf("metering-stream-1f2e-StreamThread-3"));
      assertEquals(null, members.memberOf("kafka-producer-network-thread"));
    }
  }

  private Properties settings(String applicationId, String instanceId, int threads) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
    props.put(StreamsConfig.STATE_DIR_CONFIG, state.resolve(applicationId).toString());
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), instanceId);
    return props;
  }

  private static void createTopics(String input, int partitions, String output) throws Exception {
    try (Admin admin = Admin.create(KafkaTestSupport.adminConfig(kafka.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic(input, partitions, (short) 1), new NewTopic(output, 1, (short) 1)))
          .all().get();
    }
  }

  private static void send(String topic, String value) throws Exception {
    send(topic, 0, value);
  }

  private static void send(String topic, int partition, String value) throws Exception {
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
      producer.send(new ProducerRecord<>(topic, partition, value, value.getBytes(StandardCharsets.UTF_8))).get();
    }
  }

  private static List<String> read(String topic) {
    return KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(), topic, new StringDeserializer(),
        new StringDeserializer()).stream().map(ConsumerRecord::value).toList();
  }
}
