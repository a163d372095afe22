package dev.metering.bench;

import dev.metering.kafka.EmbeddedKafka;
import dev.metering.kafka.HangingTransactions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * What metering-stream's hanging-transaction sweeper ({@link HangingTransactions}) costs on a
 * cluster of many partitions: every check lists and describes the watched topics and describes the
 * producers of every partition, then lists and describes the transactions it found open. On one
 * broker in this JVM, with a transactional producer committing over the partitions meanwhile (as
 * stream threads do), it times checks back to back and compares the process's CPU over a window of
 * checks with an equal window of the producer alone: the difference is the broker's and the Admin
 * client's work for the checks.
 */
final class SweeperCost {

  private static final String PREFIX = "sweeper-bench-";

  private SweeperCost() {
  }

  static void measure(Results results, int topics, int partitionsPerTopic) throws Exception {
    int partitions = topics * partitionsPerTopic;
    try (EmbeddedKafka kafka = EmbeddedKafka.start();
        Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      List<NewTopic> created = new ArrayList<>();
      for (int t = 0; t < topics; t++) {
        created.add(new NewTopic(PREFIX + t, partitionsPerTopic, (short) 1));
      }
      admin.createTopics(created).all().get();
      AtomicBoolean running = new AtomicBoolean(true);
      AtomicLong transactions = new AtomicLong();
      Thread writer = new Thread(() -> writeTransactions(kafka.bootstrapServers(), topics, partitionsPerTopic, running,
          transactions), "sweeper-bench-writer");
      writer.start();
      try {
        // every partition with a producer's state, then a transaction always open on some of them
        Measure.await("a transaction over every partition", Duration.ofMinutes(5), () -> transactions.get() > 0);
        HangingTransactions sweeper = new HangingTransactions(admin, topic -> topic.startsWith(PREFIX),
            Duration.ofSeconds(10), new SimpleMeterRegistry());
        for (int i = 0; i < 5; i++) {
          sweeper.check();
        }
        com.sun.management.OperatingSystemMXBean os =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        int checks = 40;
        long[] micros = new long[checks];
        long cpuBefore = os.getProcessCpuTime();
        long start = System.nanoTime();
        int hanging = 0;
        for (int i = 0; i < checks; i++) {
          long t0 = System.nanoTime();
          hanging += sweeper.check().size();
          micros[i] = (System.nanoTime() - t0) / 1_000;
        }
        long window = System.nanoTime() - start;
        long cpuWithChecks = os.getProcessCpuTime() - cpuBefore;
        long idleBefore = os.getProcessCpuTime();
        long idleStart = System.nanoTime();
        Thread.sleep(window / 1_000_000);
        long cpuWithout = (os.getProcessCpuTime() - idleBefore) * window / (System.nanoTime() - idleStart);
        double cpuPerCheckMs = Math.max(0, cpuWithChecks - cpuWithout) / 1e6 / checks;
        String name = String.format("%,d partitions (%d topics x %d)", partitions, topics, partitionsPerTopic);
        results.add("sweeper", name + ", one check, p50", Measure.percentile(micros, 50) / 1000.0, "ms",
            checks + " checks back to back; " + hanging + " aborted (none hang here)");
        results.add("sweeper", name + ", one check, p99", Measure.percentile(micros, 99) / 1000.0, "ms", "");
        results.add("sweeper", name + ", CPU per check", cpuPerCheckMs, "ms",
            "broker and Admin client together: the process's CPU over the checks less the same time without them");
        results.add("sweeper", name + ", CPU at one check every 5 s", 100.0 * cpuPerCheckMs / 5_000, "% of a core",
            "per metering-stream instance (each runs its own)");
      } finally {
        running.set(false);
        writer.join();
      }
    }
  }

  /**
   * Transactions of 100 ms one after another, each over 200 random partitions (the first over all
   * of them), so the checks find open transactions and producers with state, as in a running
   * application.
   */
  private static void writeTransactions(String bootstrap, int topics, int partitionsPerTopic, AtomicBoolean running,
      AtomicLong transactions) {
    Random random = new Random(7);
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.TRANSACTIONAL_ID_CONFIG, "sweeper-bench-" + UUID.randomUUID()),
        new StringSerializer(), new StringSerializer())) {
      producer.initTransactions();
      boolean first = true;
      while (running.get()) {
        producer.beginTransaction();
        int writes = first ? topics * partitionsPerTopic : 200;
        for (int i = 0; i < writes; i++) {
          int at = first ? i : random.nextInt(topics * partitionsPerTopic);
          producer.send(new ProducerRecord<>(PREFIX + at / partitionsPerTopic, at % partitionsPerTopic, "k", "v"));
        }
        try {
          Thread.sleep(100); // open meanwhile, as a stream thread's is between commits
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
        producer.commitTransaction();
        transactions.incrementAndGet();
        first = false;
      }
    }
  }
}
