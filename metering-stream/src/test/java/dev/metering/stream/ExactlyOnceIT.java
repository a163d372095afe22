package dev.metering.stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.config.Env;
import dev.metering.kafka.KafkaBroker;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import dev.metering.stream.pricing.PriceBook;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once under failure: metering-stream runs in a separate JVM that is killed with SIGKILL
 * mid-stream, with transactions open and nothing closed; a new instance takes over its state
 * directory and partitions. The totals and the committed limit events must be exactly those of
 * the input, with nothing lost and nothing counted twice.
 */
class ExactlyOnceIT {

  private static final int PARTITIONS = 3;

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(PARTITIONS);



  @Test
  void shouldCountEveryEventExactlyOnceAcrossAKilledInstanceAndItsReplacement(@TempDir Path stateDir) throws Exception {
    long now = System.currentTimeMillis();
    long from = Math.max(now - Duration.ofHours(20).toMillis(), Instant.ofEpochMilli(now)
        .atOffset(java.time.ZoneOffset.UTC).withDayOfMonth(1).toLocalDate().atStartOfDay()
        .toInstant(java.time.ZoneOffset.UTC).toEpochMilli());
    Workload workload = new Workload(7, 8, 40_000, from, now);
    String applicationId = "eos-it-" + UUID.randomUUID();
    Map<String, String> env = TestCluster.crashTestEnv(kafka.bootstrapServers(), applicationId, stateDir, PARTITIONS);
    List<UsageEvent> firstHalf = workload.events.subList(0, workload.events.size() / 2);
    List<UsageEvent> secondHalf = workload.events.subList(workload.events.size() / 2, workload.events.size());
    long produced;
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
      TestCluster.produceLimits(producer, workload);
      produced = send(producer, firstHalf);

      Process victim = KafkaTestSupport.startInOtherJvm(MeteringStreamMain.class, env, stateDir.resolve("victim.log"));
      try {
        TestCluster.await("the first instance to commit some progress", Duration.ofSeconds(90),
            () -> KafkaTestSupport.committed(kafka.bootstrapServers(), applicationId, Topics.USAGE_EVENTS.name()) >= 3_000);
      } finally {
        victim.destroyForcibly().waitFor();
      }
      long committedAtKill = KafkaTestSupport.committed(kafka.bootstrapServers(), applicationId, Topics.USAGE_EVENTS.name());
      System.out.printf("killed the first instance with %d of %d records committed%n", committedAtKill, produced);
      assertTrue(committedAtKill < produced, "killed mid-stream: " + committedAtKill + " of " + produced + " committed");

      produced += send(producer, secondHalf);
    }
    long total = produced;

    MeteringConfig config = MeteringConfig.from(new Env(env));
    try (MeteringApp app = MeteringApp.start(config, PriceBook.bundled())) {
      assertTrue(app.awaitRunning(Duration.ofSeconds(90)), "RUNNING");
      TestCluster.assertCountedExactlyOnce(app, workload, total, total - workload.events.size(), from, now);
    }
    TestCluster.assertLimitEventsOnce(kafka.bootstrapServers(), workload);
  }

  /** Sends every event once and every 20th twice; returns how many records were sent. */
  private static long send(KafkaProducer<String, byte[]> producer, List<UsageEvent> events) {
    long sent = 0;
    for (int i = 0; i < events.size(); i++) {
      UsageEvent event = events.get(i);
      byte[] bytes = Topics.USAGE_EVENTS.encode(event);
      int copies = i % 20 == 0 ? 2 : 1;
      for (int c = 0; c < copies; c++) {
        producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), event.getApiKeyId(), bytes));
        sent++;
      }
    }
    producer.flush();
    return sent;
  }




}
