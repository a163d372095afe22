package dev.metering.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.config.Env;
import dev.metering.kafka.KafkaBroker;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import dev.metering.stream.ingest.IngestCounters;
import dev.metering.stream.pricing.PriceBook;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Exactly-once during a backfill (issue 13): a month of history fed at full speed, with
 * metering-stream SIGKILLed three times in a separate JVM. Each replacement restores every store
 * from its changelog (exactly-once wipes the state of a task that was not closed cleanly), and
 * duplicates follow their originals by about a day of event time, so some originals were processed
 * before a crash and their duplicates after it, with event times older than any changelog retention
 * by the wall clock. The broker enforces retention every second (by default every five minutes),
 * so a changelog that deletes records its store still needs loses them within the test, as one did
 * in production.
 */
class BackfillExactlyOnceIT {

  private static final int PARTITIONS = 3;

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(PARTITIONS, Map.of("log.retention.check.interval.ms", "1000"));

  @Test
  void shouldCountABackfilledMonthExactlyOnceAcrossRepeatedCrashes(@TempDir Path stateDir) throws Exception {
    long now = System.currentTimeMillis();
    long from = now - Duration.ofDays(30).toMillis();
    Workload workload = new Workload(31, 8, 30_000, from, now - Duration.ofHours(1).toMillis());
    List<UsageEvent> timeOrdered = new ArrayList<>(workload.events);
    timeOrdered.sort(Comparator.comparingLong(UsageEvent::getTimestamp));
    String applicationId = "eos-backfill-it-" + UUID.randomUUID();
    Map<String, String> env = TestCluster.crashTestEnv(kafka.bootstrapServers(), applicationId, stateDir, PARTITIONS);
    long produced = 0;
    long duplicates = 0;
    Process victim = null;
    boolean fed = false;
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
      // The keys, rules and budgets exist, and metering-stream has read them, before the history
      // they limit is fed, as docs/design.md's "Backfilling history" asks. Read beside the usage, a
      // rule reaches the key tasks through a repartition topic, later than the usage next to it,
      // and judges only the months still open then: on the first days of a month the month before
      // closed within this history, and its thresholds would depend on that race.
      TestCluster.produceLimits(producer, workload);
      producer.flush();
      victim = startVictim(env, stateDir, 1);
      TestCluster.awaitLimitsRead(kafka.bootstrapServers(), applicationId, workload);
      for (int i = 0; i < timeOrdered.size(); i++) {
        send(producer, timeOrdered.get(i));
        produced++;
        if (i >= 800 && i % 20 == 0) {
          // about 0.8 days of event time after its original: within the grace and the dedup window
          send(producer, timeOrdered.get(i - 800));
          produced++;
          duplicates++;
        }
      }
      producer.flush();
      fed = true;
    } finally {
      if (!fed && victim != null) {
        victim.destroyForcibly().waitFor();
      }
    }

    for (int crash = 1; crash <= 3; crash++) {
      long target = produced * crash / 4;
      if (crash > 1) {
        victim = startVictim(env, stateDir, crash);
      }
      try {
        TestCluster.await("instance " + crash + " to commit " + target + " records", Duration.ofSeconds(120),
            () -> KafkaTestSupport.committed(kafka.bootstrapServers(), applicationId, Topics.USAGE_EVENTS.name()) >= target);
      } finally {
        victim.destroyForcibly().waitFor();
      }
      long committedAtKill = KafkaTestSupport.committed(kafka.bootstrapServers(), applicationId, Topics.USAGE_EVENTS.name());
      System.out.printf("crash %d: killed with %d of %d records committed%n", crash, committedAtKill, produced);
      assertTrue(committedAtKill < produced, "killed mid-backfill: " + committedAtKill + " of " + produced);
    }

    long total = produced;
    MeteringConfig config = MeteringConfig.from(new Env(env));
    try (MeteringApp app = MeteringApp.start(config, PriceBook.bundled())) {
      assertTrue(app.awaitRunning(Duration.ofSeconds(90)), "RUNNING");
      TestCluster.assertCountedExactlyOnce(app, workload, total, duplicates, from, now);
      assertNull(app.localCounters().get(IngestCounters.DEAD_LETTERED), "nothing of a time-ordered backfill is late");
    }
    assertChangelogsTimedByAppendTime(config);
    TestCluster.assertLimitEventsOnce(kafka.bootstrapServers(), workload);
  }

  private static void assertChangelogsTimedByAppendTime(MeteringConfig config) throws Exception {
    try (Admin admin = Admin.create(TestCluster.adminConfig(kafka.bootstrapServers()))) {
      for (StateTopics.WindowStoreSpec store : StateTopics.windowStores(config)) {
        String topic = config.applicationId() + "-" + store.name() + "-changelog";
        Config actual = admin.describeConfigs(List.of(new ConfigResource(ConfigResource.Type.TOPIC, topic)))
            .all().get().values().iterator().next();
        assertEquals("LogAppendTime", actual.get(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG).value(), topic);
        assertEquals(Long.toString(store.retention().plus(config.lateGrace()).plusDays(1).toMillis()),
            actual.get(TopicConfig.RETENTION_MS_CONFIG).value(), topic);
      }
    }
  }

  private static Process startVictim(Map<String, String> env, Path stateDir, int crash) throws java.io.IOException {
    return KafkaTestSupport.startInOtherJvm(MeteringStreamMain.class, env, stateDir.resolve("victim-" + crash + ".log"));
  }

  private static void send(KafkaProducer<String, byte[]> producer, UsageEvent event) {
    producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), event.getApiKeyId(),
        Topics.USAGE_EVENTS.encode(event)));
  }
}
