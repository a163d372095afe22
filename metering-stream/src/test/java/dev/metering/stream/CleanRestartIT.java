package dev.metering.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.kafka.KafkaBroker;
import dev.metering.stream.pricing.PriceBook;
import dev.metering.stream.usage.KeyUsageProcessor;
import dev.metering.stream.usage.OrgUsageProcessor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A clean restart on the same state directory resumes every store from its local state: nothing
 * is replayed from the changelogs. Kafka Streams 4.3 under exactly-once keeps each store's changelog
 * offset inside the store, and a window store without segments (the spike flags until a spike
 * fires, any window store of an idle partition once retention has dropped its last segment) has
 * nowhere to keep it, so the task was declared corrupted on every reopen, all its stores wiped and
 * restored, and a rebalance forced (CheckpointedWindowStores).
 */
class CleanRestartIT {

  private static final int PARTITIONS = 2;

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(PARTITIONS);

  @Test
  void shouldResumeFromLocalStateWithoutRestoringAfterACleanStop(@TempDir Path stateDir) throws Exception {
    long now = System.currentTimeMillis();
    Workload workload = new Workload(11, 6, 600, now - Duration.ofHours(3).toMillis(), now);
    TestCluster.produce(kafka.bootstrapServers(), workload);
    long produced = workload.events.size();
    MeteringConfig config = TestCluster.soloConfig(kafka.bootstrapServers(), "restart-it-" + UUID.randomUUID(), stateDir);

    try (MeteringApp first = MeteringApp.start(config, PriceBook.bundled())) {
      assertTrue(first.awaitRunning(Duration.ofSeconds(60)), "RUNNING");
      TestCluster.await(produced + " events consumed", Duration.ofSeconds(90), () -> TestCluster.consumed(first) == produced);
      var orgDaily = TestCluster.windowStore(first, OrgUsageProcessor.DAILY_STORE);
      TestCluster.await("org totals of every event", Duration.ofSeconds(60),
          () -> TestCluster.requests(orgDaily, now - Duration.ofDays(1).toMillis(), now) == produced);
      TestCluster.await("no rebalance or restore in progress", Duration.ofSeconds(60), first::ready);
    }

    try (MeteringApp second = MeteringApp.start(config, PriceBook.bundled())) {
      assertTrue(second.awaitRunning(Duration.ofSeconds(60)), "RUNNING again");
      TestCluster.await("ready again", Duration.ofSeconds(60), second::ready);

      assertEquals(0, second.restoredRecords(), "changelog records replayed after a clean stop");
      assertEquals(produced, TestCluster.consumed(second), "the counters as the first run left them");
      TestCluster.assertDaily(workload.expectedDaily(false),
          TestCluster.windowStore(second, KeyUsageProcessor.DAILY_STORE));
    }
  }
}
