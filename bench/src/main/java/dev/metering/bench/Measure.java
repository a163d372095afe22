package dev.metering.bench;

import dev.metering.records.KeyState;
import dev.metering.records.KeyStatus;
import dev.metering.records.LimitEvent;
import dev.metering.records.LimitEventKind;
import dev.metering.records.LimitScope;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** The measuring tools of the harness: end offsets, committed progress, the two baselines, memory, percentiles. */
final class Measure {

  /** The pipeline's repartition topic to its org tasks, after the application id; (b) has none. */
  static final String ORG_REPARTITION = "-usage-by-org-repartition";

  private Measure() {
  }

  static long endOffsets(String bootstrap, String topic) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap)) {
      List<TopicPartition> partitions = partitions(consumer, topic);
      return consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /**
   * Whether {@code groupId}, which has {@code committed}, has processed {@code target} offsets of
   * usage-events and everything it wrote to its own repartition topics meanwhile: the work
   * downstream of a repartition (the org totals) is part of the pipeline, and not counting it
   * would overstate throughput and leave a backlog that the latency runs would then measure. A
   * repartition partition is done when at most its last transaction marker lies beyond the
   * committed offset.
   */
  private static boolean caughtUp(Admin admin, String groupId, Map<TopicPartition, OffsetAndMetadata> committed,
      long target) throws Exception {
    if (committedInput(committed) < target) {
      return false;
    }
    List<String> repartition = admin.listTopics().names().get().stream()
        .filter(t -> t.startsWith(groupId + "-") && t.endsWith("-repartition")).toList();
    for (var end : latestOffsets(admin, repartition).entrySet()) {
      OffsetAndMetadata done = committed.get(end.getKey());
      if (end.getValue() - (done == null ? 0 : done.offset()) > 1) {
        return false;
      }
    }
    return true;
  }

  /**
   * One throughput run of {@code target} records: end to end, from {@code startNanos} (the
   * process start: JVM start, JIT warm-up and internal topic creation included) until everything
   * is committed; and steady, between the moments 20% and 80% of the input was committed (in the
   * pipeline, by the key and the org tasks on average; interpolated between samples), which leaves
   * start-up and the tail out.
   */
  record Throughput(double endToEnd, double steady, double cpuMicrosPerEvent) {
    @Override
    public String toString() {
      return String.format("%,.0f ev/s steady, %,.0f ev/s end to end, %,.0f us CPU per event", steady, endToEnd,
          cpuMicrosPerEvent);
    }
  }

  /**
   * CPU time of the measured process: all of it, and its JIT compiler's share. The rate a run
   * reaches on two shared cores moves with whatever else runs; the CPU the process spends per
   * event, compiler left out, moves less (see docs/benchmarks.md for how much), so it is what a
   * change to the per-event work is judged by.
   */
  interface CpuClock {
    /** CPU time the process has used so far, every thread. */
    long processMillis();

    /** CPU time its C1 and C2 compiler threads have used so far. */
    long compilerMillis();

    /** CPU time the process has used so far on its own work: every thread but the JIT compiler's. */
    default long workMillis() {
      return processMillis() - compilerMillis();
    }

    /** The CPU of several processes together: the instances of one application id. */
    static CpuClock sum(List<CpuClock> clocks) {
      return new CpuClock() {
        @Override
        public long processMillis() {
          return clocks.stream().mapToLong(CpuClock::processMillis).sum();
        }

        @Override
        public long compilerMillis() {
          return clocks.stream().mapToLong(CpuClock::compilerMillis).sum();
        }
      };
    }
  }

  /** As {@link #awaitCommitted(String, String, long, long, Duration, Runnable, CpuClock)}, without CPU per event. */
  static Throughput awaitCommitted(String bootstrap, String groupId, long target, long startNanos, Duration timeout,
      Runnable stillRunning) throws InterruptedException {
    return awaitCommitted(bootstrap, groupId, target, startNanos, timeout, stillRunning, null);
  }

  /**
   * Waits until {@code groupId} has processed {@code target} usage-events records and all its
   * repartitioned records ({@link #caughtUp}), sampling its committed progress every 100 ms: the
   * input committed, or in the pipeline the mean of that and what its org tasks committed of the
   * {@value #ORG_REPARTITION} topic (one record per accepted event). A stream thread catching up
   * works through the keys' backlog and the org tasks' in turns, long ones: counted by the input
   * alone, the steady window (20% to 80%) held mostly key work, and its rate and CPU per event were
   * the key path's; by the org tasks alone, mostly org work. By the mean, whatever the turns, the
   * window holds 60% of each.
   */
  static Throughput awaitCommitted(String bootstrap, String groupId, long target, long startNanos, Duration timeout,
      Runnable stillRunning, CpuClock cpu) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long[] crossedAt = new long[2];
    // at the samples where the input first passed each mark: the input, and the process's CPU
    // without the compiler's (the compiler is read only there: it takes a file read per thread)
    long[] inputAt = new long[2];
    long[] workCpuAt = new long[2];
    double[] marks = {0.2 * target, 0.8 * target};
    long previousTime = startNanos;
    long previousInput = 0;
    String orgRepartition = groupId + ORG_REPARTITION;
    boolean orgPath = false;
    boolean orgPathKnown = false;
    // One admin client for the whole wait: a new client per check costs a core's worth of start-up
    // work on this 2-core machine and slows the process being measured.
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      while (true) {
        stillRunning.run();
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(groupId + " did not finish within " + timeout);
        }
        try {
          Map<TopicPartition, OffsetAndMetadata> committed =
              admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get();
          if (!orgPathKnown) {
            // Kafka Streams creates its internal topics before it commits any input: once input is
            // committed the answer is final, and the topics are not listed on every sample
            orgPath = admin.listTopics().names().get().contains(orgRepartition);
            orgPathKnown = committedInput(committed) > 0;
          }
          long now = System.nanoTime();
          long input = orgPath ? (committedInput(committed) + committedOn(committed, orgRepartition)) / 2
              : committedInput(committed);
          for (int m = 0; m < marks.length; m++) {
            if (crossedAt[m] == 0 && input >= marks[m]) {
              double share = input == previousInput ? 1 : (marks[m] - previousInput) / (input - previousInput);
              crossedAt[m] = previousTime + (long) (Math.max(0, share) * (now - previousTime));
              inputAt[m] = input;
              workCpuAt[m] = cpu == null ? 0 : cpu.workMillis();
            }
          }
          previousTime = now;
          previousInput = input;
          if (caughtUp(admin, groupId, committed, target)) {
            double seconds = (now - startNanos) / 1e9;
            double cpuPerEvent = cpu == null || inputAt[1] == inputAt[0] ? Double.NaN
                : (workCpuAt[1] - workCpuAt[0]) * 1000.0 / (inputAt[1] - inputAt[0]);
            return new Throughput(target / seconds, 0.6 * target / ((crossedAt[1] - crossedAt[0]) / 1e9), cpuPerEvent);
          }
        } catch (InterruptedException e) {
          throw e;
        } catch (Exception notYet) {
          // the group or its topics do not exist yet
        }
        Thread.sleep(100);
      }
    }
  }

  /**
   * Waits for a steady state under the background load: until {@code groupId} commits everything
   * produced to usage-events at some moment within {@code within} of that moment. Starting
   * services (alert-service, KeyGuard) leave a backlog that would otherwise be measured as
   * enforcement latency of the first crossings.
   */
  static void awaitSteady(String bootstrap, String groupId, Duration within, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      while (System.nanoTime() < deadline) {
        long produced = latestOffsets(admin, List.of(Topics.USAGE_EVENTS.name())).values().stream()
            .mapToLong(Long::longValue).sum();
        long start = System.nanoTime();
        while (committedInput(admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get()) < produced
            && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        if (System.nanoTime() - start <= within.toNanos()) {
          return;
        }
      }
    }
    throw new IllegalStateException(groupId + " did not keep up with the background load within " + timeout);
  }

  /**
   * Waits until the compiler CPU time read by {@code compilerCpuMillis} rose by less than
   * {@code share} of a core over {@code window}; returns how long that took in milliseconds, or
   * the timeout's if it never did (the run goes on, and the compiler's share during it is reported).
   */
  static long awaitCompilerQuiet(java.util.function.LongSupplier compilerCpuMillis, Duration window, double share,
      Duration timeout) throws InterruptedException {
    long start = System.nanoTime();
    long deadline = start + timeout.toNanos();
    long before = compilerCpuMillis.getAsLong();
    while (System.nanoTime() < deadline) {
      Thread.sleep(window.toMillis());
      long now = compilerCpuMillis.getAsLong();
      if (now - before < share * window.toMillis()) {
        break;
      }
      before = now;
    }
    return (Math.min(System.nanoTime(), deadline) - start) / 1_000_000;
  }

  /** Waits until {@code groupId} has committed every record of {@code topics} produced so far. */
  static void awaitConsumed(String bootstrap, String groupId, List<String> topics, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
      Map<TopicPartition, Long> ends = latestOffsets(admin, topics);
      while (true) {
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get();
        boolean done = ends.entrySet().stream().allMatch(end -> end.getValue() - (committed.get(end.getKey()) == null
            ? 0 : committed.get(end.getKey()).offset()) <= 1);
        if (done) {
          return;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(groupId + " did not consume " + topics + " within " + timeout);
        }
        Thread.sleep(100);
      }
    }
  }

  /** The usage-events offsets among {@code committed}, summed over its partitions. */
  private static long committedInput(Map<TopicPartition, OffsetAndMetadata> committed) {
    return committedOn(committed, Topics.USAGE_EVENTS.name());
  }

  /**
   * Samples, every 100 ms until closed, how many records of {@code topic} (usage-events unless
   * given) the group {@code groupId} has not yet committed: the backlog a new record (a crossing)
   * queues behind, plus what the next commit will cover.
   */
  static final class BacklogSampler implements AutoCloseable {
    private final Admin admin;
    private final Thread sampler;
    private final List<Long> samples = java.util.Collections.synchronizedList(new ArrayList<>());

    BacklogSampler(String bootstrap, String groupId) {
      this(bootstrap, groupId, Topics.USAGE_EVENTS.name());
    }

    BacklogSampler(String bootstrap, String groupId, String topic) {
      admin = Admin.create(Map.of("bootstrap.servers", bootstrap));
      sampler = new Thread(() -> {
        try {
          while (!Thread.currentThread().isInterrupted()) {
            long produced = latestOffsets(admin, List.of(topic)).values().stream().mapToLong(Long::longValue).sum();
            long committed = committedOn(admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata().get(),
                topic);
            samples.add(Math.max(0, produced - committed));
            Thread.sleep(100);
          }
        } catch (InterruptedException stopped) {
          Thread.currentThread().interrupt();
        } catch (Exception e) {
          throw new IllegalStateException("sampling the backlog failed", e);
        }
      }, "backlog-sampler");
      sampler.setDaemon(true);
      sampler.start();
    }

    /** The samples so far, in records. */
    long[] samples() {
      synchronized (samples) {
        return samples.stream().mapToLong(Long::longValue).toArray();
      }
    }

    @Override
    public void close() throws InterruptedException {
      sampler.interrupt();
      sampler.join();
      admin.close();
    }
  }

  /** Committed offsets summed over {@code topic}'s partitions (a transactional topic's also count its commit markers). */
  private static long committedOn(Map<TopicPartition, OffsetAndMetadata> committed, String topic) {
    return committed.entrySet().stream()
        .filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
        .mapToLong(e -> e.getValue().offset()).sum();
  }

  /** The end offset of every partition of {@code topics}. */
  private static Map<TopicPartition, Long> latestOffsets(Admin admin, List<String> topics) throws Exception {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (TopicDescription topic : admin.describeTopics(topics).allTopicNames().get().values()) {
      topic.partitions().forEach(p -> latest.put(new TopicPartition(topic.name(), p.partition()), OffsetSpec.latest()));
    }
    Map<TopicPartition, Long> ends = new HashMap<>();
    admin.listOffsets(latest).all().get().forEach((partition, info) -> ends.put(partition, info.offset()));
    return ends;
  }

  /** Baseline (a): a plain consumer reading the whole topic, the I/O limit. Returns events/s. */
  static double plainConsumer(String bootstrap, long records) {
    try (KafkaConsumer<byte[], byte[]> consumer = consumer(bootstrap)) {
      List<TopicPartition> partitions = partitions(consumer, Topics.USAGE_EVENTS.name());
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      long start = System.nanoTime();
      long read = 0;
      while (read < records) {
        read += consumer.poll(Duration.ofMillis(200)).count();
      }
      return read / ((System.nanoTime() - start) / 1e9);
    }
  }

  static double percentile(long[] values, double p) {
    if (values.length == 0) {
      return Double.NaN;
    }
    long[] sorted = values.clone();
    Arrays.sort(sorted);
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }

  static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  /**
   * Watches, read_committed, where enforcement's records become readable: per key, its
   * LIMIT_BREACHED and its SUSPENDED status; per organisation, the crossing usage's record on the
   * org repartition topic (the key task's commit), the org's LIMIT_BREACHED (the org task's) and
   * its own SUSPENDED status (alert-service's). Each at the first time seen (System.nanoTime).
   */
  static final class HopProbe implements AutoCloseable {
    final Map<String, Long> breachedAt = new ConcurrentHashMap<>();
    final Map<String, Long> suspendedAt = new ConcurrentHashMap<>();
    final Map<String, Long> orgHandedOverAt = new ConcurrentHashMap<>();
    final Map<String, Long> orgBreachedAt = new ConcurrentHashMap<>();
    final Map<String, Long> orgSuspendedAt = new ConcurrentHashMap<>();
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String repartitionTopic;
    private final long handOverTokens;
    private final Thread thread;
    private volatile boolean running = true;

    /**
     * @param applicationId metering-stream's, which names its org repartition topic
     * @param handOverTokens the input tokens of the org crossings' events, which tell them apart
     *     on that topic from the events that brought each org near its budget
     */
    HopProbe(String bootstrap, String applicationId, long handOverTokens) {
      Properties props = new Properties();
      props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
      props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      repartitionTopic = applicationId + ORG_REPARTITION;
      this.handOverTokens = handOverTokens;
      List<TopicPartition> partitions = new ArrayList<>(partitions(consumer, Topics.LIMIT_EVENTS.name()));
      partitions.addAll(partitions(consumer, Topics.KEY_STATUS.name()));
      partitions.addAll(partitions(consumer, repartitionTopic));
      consumer.assign(partitions);
      consumer.seekToEnd(partitions);
      partitions.forEach(consumer::position);
      thread = new Thread(this::run, "hop-probe");
      thread.start();
    }

    private void run() {
      while (running) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(50))) {
          long now = System.nanoTime();
          if (record.topic().equals(Topics.LIMIT_EVENTS.name())) {
            LimitEvent event = Topics.LIMIT_EVENTS.decode(record.value());
            if (event.getKind() == LimitEventKind.LIMIT_BREACHED) {
              if (event.getScope() == LimitScope.KEY) {
                breachedAt.putIfAbsent(event.getApiKeyId(), now);
              } else {
                orgBreachedAt.putIfAbsent(event.getOrgId(), now);
              }
            }
          } else if (record.topic().equals(repartitionTopic)) {
            UsageEvent usage = Topics.USAGE_EVENTS.decode(record.value());
            if (usage.getInputTokens() == handOverTokens) {
              orgHandedOverAt.putIfAbsent(usage.getOrgId(), now);
            }
          } else {
            KeyStatus status = Topics.KEY_STATUS.decode(record.value());
            if (status != null && status.getState() == KeyState.SUSPENDED) {
              (status.getApiKeyId() != null ? suspendedAt : orgSuspendedAt)
                  .putIfAbsent(status.getApiKeyId() != null ? status.getApiKeyId() : status.getOrgId(), now);
            }
          }
        }
      }
    }

    @Override
    public void close() throws InterruptedException {
      running = false;
      thread.join();
      consumer.close();
    }
  }

  private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
    return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private static List<TopicPartition> partitions(KafkaConsumer<byte[], byte[]> consumer, String topic) {
    return consumer.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
  }
}
