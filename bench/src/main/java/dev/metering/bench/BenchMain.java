package dev.metering.bench;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.metering.alerts.AlertServiceMain;
import dev.metering.config.Env;
import dev.metering.gateway.KeyGuard;
import dev.metering.gateway.UsageReporter;
import dev.metering.kafka.EmbeddedKafka;
import dev.metering.keys.Secrets;
import dev.metering.records.OrgBudget;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import dev.metering.stream.MeteringConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.DoubleSummaryStatistics;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The benchmark harness: pipeline throughput against two baselines on the same data in the same
 * run (cold and with a warm JIT, as rates and as CPU per event), enforcement latency, query
 * latency under load, memory, a scale curve and JMH micro-benchmarks. {@code --quick} runs a
 * small version in about 20 minutes on 2 cores.
 */
public final class BenchMain {

  /** The organisation of the keys the enforcement run pushes over their limits. */
  private static final String ENFORCEMENT_ORG = "org-enforcement";

  /** The query API's Authorization header, once the bench's metering-stream is up. */
  private static volatile String queryAuthorization;

  private final boolean quick;
  /**
   * For profiling: only the preload and "minimal" (baseline (b)), "pipeline", "latency" (pipeline,
   * then latencies) or "warm" (one JIT-warm run of each); or "scale", the scale curve alone; or
   * "micro", the JMH micro-benchmarks alone; or "sweeper", what the hanging-transaction checks cost
   * over {@code --topics} topics of 48 partitions (default 36), apart from the rest.
   */
  private final String only;
  private final int events;
  private final int keys;
  private final int partitions;
  /** Topics of 48 partitions for {@code --only=sweeper}. */
  private final int sweeperTopics;
  /** Background load during the latency runs, as a share of the measured pipeline throughput. */
  private final double loadShare;
  /** Background load during the latency runs in events a second, if given instead of a share. */
  private final double loadRate;
  /** Stream threads of (b) and the pipeline (so of the latency runs too): metering-stream's default unless --threads. */
  private final int streamThreads;
  private final Results results = new Results();
  /** Throughput runs of each contender, for a median and a spread. */
  private static final int RUNS = 3;
  private final Dataset dataset;
  private final Path work;

  private BenchMain(String[] args) throws Exception {
    Map<String, String> options = new HashMap<>();
    for (String arg : String.join(" ", args).trim().split("\\s+")) {
      if (arg.isEmpty()) {
        continue;
      }
      String[] kv = arg.replaceFirst("^--", "").split("=", 2);
      options.put(kv[0], kv.length > 1 ? kv[1] : "true");
    }
    quick = options.containsKey("quick");
    events = Integer.parseInt(options.getOrDefault("events", quick ? "150000" : "2000000"));
    only = options.get("only");
    keys = Integer.parseInt(options.getOrDefault("keys", "10000"));
    partitions = Integer.parseInt(options.getOrDefault("partitions", "4"));
    sweeperTopics = Integer.parseInt(options.getOrDefault("topics", "36"));
    loadShare = Double.parseDouble(options.getOrDefault("load", "0.5"));
    loadRate = Double.parseDouble(options.getOrDefault("rate", "NaN"));
    streamThreads = Integer.parseInt(options.getOrDefault("threads",
        Integer.toString(MeteringConfig.DEFAULT_STREAM_THREADS)));
    work = Files.createTempDirectory("metering-bench");
    dataset = new Dataset(keys);
  }

  /** Adds the median and spread of {@code runs}, end to end and steady (20% to 80% committed). */
  private void addRate(String name, List<Measure.Throughput> runs, String note) {
    for (var measure : List.<Map.Entry<String, java.util.function.ToDoubleFunction<Measure.Throughput>>>of(
        Map.entry("steady", Measure.Throughput::steady), Map.entry("end to end", Measure.Throughput::endToEnd))) {
      double[] values = runs.stream().mapToDouble(measure.getValue()).sorted().toArray();
      results.add("throughput", name + ", " + measure.getKey(), median(runs, measure.getValue()), "ev/s",
          String.format("%s (%,.0f - %,.0f)", note, values[0], values[values.length - 1]));
    }
    double[] cpu = runs.stream().mapToDouble(Measure.Throughput::cpuMicrosPerEvent).sorted().toArray();
    results.add("throughput", name + ", CPU per event", median(runs, Measure.Throughput::cpuMicrosPerEvent), "us",
        String.format("the process's, JIT compiler excluded, 20%% to 80%% committed; %d runs, median (%,.0f - %,.0f)",
            runs.size(), cpu[0], cpu[cpu.length - 1]));
  }

  private static double median(List<Measure.Throughput> runs, java.util.function.ToDoubleFunction<Measure.Throughput> f) {
    double[] values = runs.stream().mapToDouble(f).sorted().toArray();
    return values.length == 0 ? Double.NaN : values[values.length / 2];
  }

  public static void main(String[] args) throws Exception {
    // the floors' static endpoints (JDK HTTP server) must not wait on Nagle: a small response written
    // as headers then body would otherwise wait for the client's delayed ACK, 40 ms, and measure that
    System.setProperty("sun.net.httpserver.nodelay", "true");
    new BenchMain(args).run();
    System.exit(0);
  }

  private void run() throws Exception {
    boolean all = only == null;
    boolean scaleOnly = "scale".equals(only);
    boolean microOnly = "micro".equals(only);
    String machine = Runtime.getRuntime().availableProcessors() + " cores, "
        + Math.round(totalMemoryGiB()) + " GiB, Java " + System.getProperty("java.version");
    if ("sweeper".equals(only)) {
      SweeperCost.measure(results, sweeperTopics, 48);
      results.print("bench --only=sweeper on " + LocalDate.now(ZoneOffset.UTC) + " (" + machine + ")");
      return;
    }
    String header = "bench " + (quick ? "--quick " : "") + "on " + LocalDate.now(ZoneOffset.UTC) + " (" + machine
        + "): " + (microOnly ? "the micro-benchmarks" : (scaleOnly ? "the scale curve" : events + " events, " + keys
        + " keys") + ", " + partitions + " partitions");
    System.out.println(header);
    long wall = System.nanoTime();
    if (!scaleOnly && !microOnly) {
      onOneBroker(all);
    }
    if (all || scaleOnly) {
      scaleCurve();
    }
    if (all || microOnly) {
      micro();
    }
    results.add("run", "wall time", (System.nanoTime() - wall) / 1e9, "s", "");
    results.print(header);
    if (!all) {
      return;
    }
    results.write(Path.of("bench-results"), "bench-" + (quick ? "quick-" : "") + LocalDate.now(ZoneOffset.UTC), header);
  }

  /** On one broker and the dataset: the throughput runs, then (in the last pipeline run) the latencies. */
  private void onOneBroker(boolean all) throws Exception {
    try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
      String bootstrap = kafka.bootstrapServers();
      prepare(bootstrap);
      dataset.register(bootstrap);
      long produceStart = System.nanoTime();
      long records = dataset.produce(bootstrap, events, 7);
      results.add("input", "records produced (1% duplicates)", records, "records",
          String.format("%.0f records/s; %,d keys in %d orgs (Zipf), each with a limit and 2 rules, each org a budget and a rule", records
              / ((System.nanoTime() - produceStart) / 1e9), keys, Dataset.ORGS));

      double plain = Double.NaN;
      if (all) {
        plain = Measure.plainConsumer(bootstrap, records);
        results.add("throughput", "(a) plain consumer, read only", plain, "ev/s", "the I/O limit");
      }
      boolean baselineWanted = all || "minimal".equals(only);
      boolean pipelineWanted = all || "pipeline".equals(only) || "latency".equals(only);
      List<Measure.Throughput> baseline = new ArrayList<>();
      List<Measure.Throughput> pipeline = new ArrayList<>();
      // (b) and the pipeline alternate, each run in a fresh JVM with a fresh application id and
      // state, configured alike (MeteringConfig -> StreamsSettings, the same stream threads, same heap)
      for (int run = 1; run <= RUNS; run++) {
        if (baselineWanted) {
          Map<String, String> env = meteringEnv(bootstrap, streamThreads);
          long start = System.nanoTime();
          try (StreamProcess process = StreamProcess.start(BaselineMain.class, env, work)) {
            baseline.add(Measure.awaitCommitted(bootstrap, env.get("METERING_APPLICATION_ID"), records, start,
                Duration.ofMinutes(20), process::requireAlive, process.cpuClock()));
            System.out.printf("run %d: (b) %s%n", run, baseline.get(baseline.size() - 1));
          }
        }
        if (pipelineWanted) {
          Map<String, String> env = meteringEnv(bootstrap, streamThreads);
          MeteringConfig config = MeteringConfig.from(new Env(env));
          long start = System.nanoTime();
          try (StreamProcess stream = StreamProcess.start(env, work)) {
            pipeline.add(Measure.awaitCommitted(bootstrap, config.applicationId(), records, start,
                Duration.ofMinutes(30), stream::requireAlive, stream.cpuClock()));
            System.out.printf("run %d: pipeline %s%n", run, pipeline.get(pipeline.size() - 1));
            if (run == RUNS) {
              results.add("memory", "peak RSS of metering-stream during the throughput run",
                  stream.peakRssBytes() / 1048576.0, "MiB", "its own JVM (-Xmx" + StreamProcess.HEAP
                      + "); RocksDB budget " + config.rocksDbMemoryBytes() / 1048576 + " MiB");
              results.add("memory", "peak heap used", stream.peakHeapBytes() / 1048576.0, "MiB",
                  "the most heap any collection started from");
              if (all || "latency".equals(only)) {
                queryAuthorization = stream.queryAuthorization();
                // a share of what it sustains end to end, as before the runs were split: alert-service
                // and KeyGuard share the two cores during the latency runs
                underLoad(bootstrap, stream, config.applicationId(), Double.isNaN(loadRate)
                    ? median(pipeline, Measure.Throughput::endToEnd) * loadShare : loadRate);
              }
            }
          }
        }
      }
      // then one run of each with a warm JIT (WarmedMain): what a long-running instance sustains
      boolean warm = "warm".equals(only);
      Measure.Throughput warmBaseline = all || warm || "minimal".equals(only)
          ? warmRun(bootstrap, "baseline", records) : null;
      Measure.Throughput warmPipeline = all || warm || "pipeline".equals(only)
          ? warmRun(bootstrap, "pipeline", records) : null;
      String runs = streamThreads + (streamThreads == 1 ? " stream thread; " : " stream threads; ")
          + RUNS + " runs, median (min - max)";
      if (baselineWanted) {
        addRate("(b) Kafka Streams EOS, one windowed sum", baseline, "the framework limit, " + runs);
      }
      if (pipelineWanted) {
        addRate("metering pipeline, EOS, all features", pipeline, runs);
      }
      String warmNote = "1 run, after the same JVM processed the whole input once (WarmedMain)";
      if (warmBaseline != null) {
        results.add("throughput", "(b) Kafka Streams EOS, one windowed sum, steady, JIT warm", warmBaseline.steady(),
            "ev/s", warmNote);
      }
      if (warmPipeline != null) {
        results.add("throughput", "metering pipeline, EOS, all features, steady, JIT warm", warmPipeline.steady(),
            "ev/s", warmNote);
      }
      if (warmBaseline != null && warmPipeline != null) {
        results.add("throughput", "pipeline / (b), steady, JIT warm", warmPipeline.steady() / warmBaseline.steady(),
            "ratio", "target >= 0.5");
        results.add("throughput", "(b) / pipeline, CPU per event, JIT warm", warmBaseline.cpuMicrosPerEvent()
            / warmPipeline.cpuMicrosPerEvent(), "ratio", String.format("%,.0f us against %,.0f us: the work ratio, "
            + "steadier than the rates on two shared cores", warmBaseline.cpuMicrosPerEvent(),
            warmPipeline.cpuMicrosPerEvent()));
      }
      if (all) {
        double steady = median(pipeline, Measure.Throughput::steady);
        results.add("throughput", "pipeline / (a)", steady / plain, "ratio", "steady");
        results.add("throughput", "pipeline / (b), steady", steady / median(baseline, Measure.Throughput::steady),
            "ratio", "cold JIT");
        results.add("throughput", "pipeline / (b), end to end", median(pipeline, Measure.Throughput::endToEnd)
            / median(baseline, Measure.Throughput::endToEnd), "ratio", "JVM start and warm-up included");
      }
    }
  }

  /** Enforcement and query latency while background events arrive at {@code rate} events/s. */
  private void underLoad(String bootstrap, StreamProcess stream, String groupId, double rate) throws Exception {
    AtomicBoolean loading = new AtomicBoolean(true);
    Thread load = new Thread(() -> backgroundLoad(bootstrap, rate, loading), "background-load");
    load.start();
    try {
      enforcement(bootstrap, stream, groupId);
      queries(stream.httpPort());
    } finally {
      loading.set(false);
      load.join();
    }
  }

  private void backgroundLoad(String bootstrap, double rate, AtomicBoolean loading) {
    Random random = new Random(3);
    try (KafkaProducer<String, byte[]> producer = Dataset.producer(bootstrap)) {
      long start = System.nanoTime();
      long sent = 0;
      while (loading.get()) {
        long due = (long) ((System.nanoTime() - start) / 1e9 * rate);
        for (; sent < due; sent++) {
          int key = dataset.nextKey(random);
          send(producer, Dataset.keyId(key), dataset.orgOf(key), 100 + random.nextInt(2000));
        }
        try {
          Thread.sleep(5);
        } catch (InterruptedException e) {
          return;
        }
      }
      results.add("load", "background load during latency runs", rate, "ev/s", Double.isNaN(loadRate)
          ? Math.round(loadShare * 100) + "% of the pipeline's end-to-end throughput" : "fixed by --rate");
    }
  }

  private static void send(KafkaProducer<String, byte[]> producer, String key, String org, long tokens) {
    send(producer, key, org, tokens, null);
  }

  private static void send(KafkaProducer<String, byte[]> producer, String key, String org, long tokens,
      org.apache.kafka.clients.producer.Callback acknowledged) {
    UsageEvent event = UsageEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setOrgId(org)
        .setApiKeyId(key).setModel("claude-sonnet-4-5").setInputTokens(tokens).setOutputTokens(0)
        .setCacheCreationInputTokens(0).setCacheReadInputTokens(0).setTimestamp(System.currentTimeMillis())
        .setGatewayId("bench").build();
    producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), key,
        Topics.USAGE_EVENTS.encode(event)), acknowledged);
  }

  /** Tokens of each enforcement crossing's event: enough to cross from 1,000 short of a limit or budget. */
  private static final long CROSSING_TOKENS = 2_000;

  /**
   * Keys with a 10,000-token hard limit are pushed over it, one crossing every 50 ms (a few in
   * flight at a time), by a producer configured as UsageReporter's is (5 ms linger): the time from
   * sending the crossing event to KeyGuard answering SUSPENDED, where it went (the hop probe), and
   * the tokens a gateway calling every 5 ms would have admitted meanwhile. One watcher thread asks
   * KeyGuard about every pending key each millisecond, as a gateway's request path would. The
   * crossings start once metering-stream keeps up with the load again after that setup and its JIT
   * compiler has gone quiet, as in a deployed instance.
   */
  private void enforcement(String bootstrap, StreamProcess stream, String groupId) throws Exception {
    int httpPort = stream.httpPort();
    // 200 even in --quick (10 s of crossings): with 40 the p99 was the maximum of one run
    int crossings = 200;
    long limit = 10_000;
    // alert emails are delivered (to an SMTP sink on loopback), so alert-service does its whole work
    // and none of it is retrying a refused connection
    GreenMail smtp = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP).dynamicPort());
    smtp.start();
    // alert-service in a JVM of its own, as it is deployed, so its CPU and pauses are its own and
    // not shared with the broker's and the load generator's
    Map<String, String> alertEnv = Map.of("KAFKA_BOOTSTRAP_SERVERS", bootstrap, "ALERT_SERVICE_GROUP_ID", "bench-alerts",
        "ALERT_SERVICE_INSTANCE_ID", "bench-alerts-0", "SMTP_HOST", "127.0.0.1",
        "SMTP_PORT", Integer.toString(smtp.getSmtp().getPort()), "ALERT_LAPSE_CHECK_INTERVAL", "10s",
        "METERING_WEBHOOK_SIGNING_KEY", Secrets.generate(), "ALERT_HTTP_BIND", "127.0.0.1", "ALERT_HTTP_PORT", "0");
    try (AutoCloseable smtpSink = smtp::stop;
        StreamProcess alerts = StreamProcess.start(AlertServiceMain.class, alertEnv, work);
        KeyGuard guard = KeyGuard.start(bootstrap, Clock.systemUTC());
        KafkaProducer<String, byte[]> producer = new KafkaProducer<>(UsageReporter.producerSettings(bootstrap,
            UsageReporter.FAIL_FAST_AFTER, UsageReporter.BUFFER_BYTES), new StringSerializer(), new ByteArraySerializer());
        Measure.HopProbe hops = new Measure.HopProbe(bootstrap, groupId, CROSSING_TOKENS)) {
      guard.awaitReady(Duration.ofSeconds(60));
      List<String> secrets = new ArrayList<>();
      for (int i = 0; i < crossings; i++) {
        String secret = "bench-secret-" + i;
        secrets.add(secret);
        producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), "enf-" + i, Topics.API_KEYS.valueSerde().serializer()
            .serialize(Topics.API_KEYS.name(), Dataset.key("enf-" + i, ENFORCEMENT_ORG, Secrets.hash(secret), limit,
                true))));
      }
      producer.flush();
      Measure.await("KeyGuard to know the keys", Duration.ofSeconds(30),
          () -> guard.authorize(secrets.get(crossings - 1), "messages:write").allowed());
      // every key 1,000 tokens short of its limit, metered before the crossings start
      for (int i = 0; i < crossings; i++) {
        send(producer, "enf-" + i, ENFORCEMENT_ORG, limit - 1_000);
      }
      producer.flush();
      HttpClient http = HttpClient.newHttpClient();
      for (int i = 0; i < crossings; i++) {
        URI uri = URI.create("http://127.0.0.1:" + httpPort + "/v1/keys/enf-" + i + "/current_period");
        Measure.await("enf-" + i + " metered", Duration.ofSeconds(60), () -> {
          try {
            return http.send(query(uri),
                HttpResponse.BodyHandlers.ofString()).body()
                .contains("\"total_tokens\":" + (limit - 1_000));
          } catch (Exception notYet) {
            return false;
          }
        });
      }

      // alert-service starts with the limit and spike events of the throughput runs to work through
      Measure.awaitConsumed(bootstrap, "bench-alerts", List.of(Topics.LIMIT_EVENTS.name(), Topics.SPIKE_EVENTS.name()),
          Duration.ofMinutes(5));
      alerts.requireAlive();
      // still compiling its hot code under the load: as long as the compiler wait below may take
      Duration warmUpLimit = Duration.ofMinutes(quick ? 4 : 8);
      Measure.awaitSteady(bootstrap, groupId, Duration.ofMillis(500), warmUpLimit);
      // a deployed metering-stream has long finished compiling its hot code; minutes after its start
      // the JIT compiler can still take most of a core from the stream thread on two cores
      Duration compilerQuiet = Duration.ofSeconds(10);
      long warmUp = Measure.awaitCompilerQuiet(stream::compilerCpuMillis, compilerQuiet, 0.05, warmUpLimit);
      results.add("enforcement", "JIT warm-up under the load before the crossings", warmUp / 1000.0, "s",
          "until metering-stream's compiler threads used under 5% of a core over " + compilerQuiet.toSeconds() + " s");
      Measure.awaitSteady(bootstrap, groupId, Duration.ofMillis(500), Duration.ofSeconds(60));
      Measure.CpuClock cpu = stream.cpuClock();
      long compilerBefore = cpu.compilerMillis();
      long workBefore = cpu.workMillis();
      Measure.CpuClock alertCpu = alerts.cpuClock();
      long alertBefore = alertCpu.workMillis();
      com.sun.management.OperatingSystemMXBean self =
          (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
      long selfBefore = self.getProcessCpuTime();
      Measure.BacklogSampler backlog = new Measure.BacklogSampler(bootstrap, groupId);
      long crossingsStart = System.nanoTime();
      Crossed crossed = cross(producer, guard, secrets, k -> "enf-" + k, k -> ENFORCEMENT_ORG, CROSSING_TOKENS);
      long[] crossedAt = crossed.sentAt();
      long[] suspendedAt = crossed.deniedAt();
      long[] ackedAt = crossed.ackedAt();
      backlog.close();
      double crossingMillis = (System.nanoTime() - crossingsStart) / 1e6;
      long[] backlogs = backlog.samples();
      results.add("enforcement", "usage events not yet committed by metering-stream during the crossings, p50",
          Measure.percentile(backlogs, 50), "records", String.format("p99 %.0f; %d samples, one every 100 ms: what a"
              + " crossing queues behind, and what the next commit covers", Measure.percentile(backlogs, 99),
              backlogs.length));
      long compiler = cpu.compilerMillis() - compilerBefore;
      results.add("enforcement", "JIT compiler CPU during the crossings", 100.0 * compiler / crossingMillis,
          "% of a core", "metering-stream's C1 and C2 threads");
      // how busy metering-stream was: near a whole core, and crossings queue behind the load
      results.add("enforcement", "metering-stream CPU during the crossings, JIT excluded",
          100.0 * (cpu.workMillis() - workBefore) / crossingMillis, "% of a core",
          "every thread of the process: stream thread, producer, RocksDB, GC");
      results.add("enforcement", "alert-service CPU during the crossings",
          100.0 * (alertCpu.workMillis() - alertBefore) / crossingMillis, "% of a core",
          "its own JVM, JIT excluded: suspensions, audit records, and delivering the alert emails");
      results.add("enforcement", "the bench's JVM CPU during the crossings",
          100.0 * (self.getProcessCpuTime() - selfBefore) / 1e6 / crossingMillis, "% of a core",
          "broker, KeyGuard, the load generator and the probes; 200% is both cores");
      threadTimeSplit(http, httpPort);

      long[] latencies = new long[crossings];
      long[] overshoot = new long[crossings];
      // a hop the probe did not see (it stops with the last KeyGuard suspension) is left out, not counted as forever
      java.util.List<Long> toBreachSeen = new java.util.ArrayList<>();
      java.util.List<Long> toSuspensionSeen = new java.util.ArrayList<>();
      for (int k = 0; k < crossings; k++) {
        latencies[k] = (suspendedAt[k] - crossedAt[k]) / 1_000_000;
        // a gateway in front of the key sends a 100-token call every 5 ms while KeyGuard allows it
        overshoot[k] = (latencies[k] / 5 + 1) * 100;
        Long breached = hops.breachedAt.get("enf-" + k);
        if (breached != null) {
          toBreachSeen.add((breached - crossedAt[k]) / 1_000_000);
        }
        Long suspended = hops.suspendedAt.get("enf-" + k);
        if (suspended != null) {
          toSuspensionSeen.add((suspended - crossedAt[k]) / 1_000_000);
        }
      }
      long[] toAck = new long[crossings];
      for (int k = 0; k < crossings; k++) {
        toAck[k] = (ackedAt[k] - crossedAt[k]) / 1_000_000;
      }
      long[] toBreach = toBreachSeen.stream().mapToLong(Long::longValue).toArray();
      long[] toSuspension = toSuspensionSeen.stream().mapToLong(Long::longValue).toArray();
      String note = crossings + " crossings, one every 50 ms";
      results.add("enforcement", "crossing to KeyGuard SUSPENDED, p50", Measure.percentile(latencies, 50), "ms", note);
      results.add("enforcement", "crossing to KeyGuard SUSPENDED, p99", Measure.percentile(latencies, 99), "ms",
          "target <= 250 ms");
      results.add("enforcement", "crossing to KeyGuard SUSPENDED, max", Measure.percentile(latencies, 100), "ms", "");
      results.add("enforcement", "hop 0: crossing to its record acknowledged, p50", Measure.percentile(toAck, 50),
          "ms", String.format("the gateway's producer and the broker; p99 %.0f ms", Measure.percentile(toAck, 99)));
      results.add("enforcement", "hop 1: crossing to LIMIT_BREACHED readable, p50", Measure.percentile(toBreach, 50),
          "ms", "metering-stream (read_committed probe; " + toBreach.length + " of " + crossings + " seen)");
      results.add("enforcement", "hop 1, p99", Measure.percentile(toBreach, 99), "ms", "");
      results.add("enforcement", "hops 1+2: crossing to SUSPENDED readable, p50", Measure.percentile(toSuspension, 50),
          "ms", "then alert-service; the rest is KeyGuard's view (" + toSuspension.length + " of " + crossings + " seen)");
      results.add("enforcement", "hops 1+2, p99", Measure.percentile(toSuspension, 99), "ms", "");
      results.add("enforcement", "overshoot: tokens admitted after crossing, p50", Measure.percentile(overshoot, 50),
          "tokens", "a 100-token call every 5 ms until SUSPENDED");
      results.add("enforcement", "overshoot, p99", Measure.percentile(overshoot, 99), "tokens", "");
      orgCrossings(producer, guard, http, httpPort, hops, bootstrap, groupId);
    }
  }

  /** When each crossing was sent, acknowledged by the broker, and denied by KeyGuard (System.nanoTime). */
  private record Crossed(long[] sentAt, long[] ackedAt, long[] deniedAt) {
  }

  /**
   * Sends {@code tokens} on key {@code keyOf(k)} of org {@code orgOf(k)} for each secret, one
   * every 50 ms, while one watcher thread asks KeyGuard about every pending secret each
   * millisecond, as a gateway's request path would; fails if one is still allowed after 2 minutes.
   */
  private static Crossed cross(KafkaProducer<String, byte[]> producer, KeyGuard guard, List<String> secrets,
      java.util.function.IntFunction<String> keyOf, java.util.function.IntFunction<String> orgOf, long tokens)
      throws InterruptedException {
    int n = secrets.size();
    Crossed crossed = new Crossed(new long[n], new long[n], new long[n]);
    AtomicInteger sent = new AtomicInteger();
    Thread watcher = new Thread(() -> {
      int done = 0;
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (done < n && System.nanoTime() < deadline) {
        int upTo = sent.get();
        for (int k = 0; k < upTo; k++) {
          if (crossed.deniedAt()[k] == 0 && !guard.authorize(secrets.get(k), "messages:write").allowed()) {
            crossed.deniedAt()[k] = System.nanoTime();
            done++;
          }
        }
        try {
          Thread.sleep(1);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "keyguard-watcher");
    watcher.start();
    for (int k = 0; k < n; k++) {
      crossed.sentAt()[k] = System.nanoTime();
      int crossing = k;
      send(producer, keyOf.apply(k), orgOf.apply(k), tokens,
          (metadata, error) -> crossed.ackedAt()[crossing] = System.nanoTime());
      sent.set(k + 1);
      Thread.sleep(50);
    }
    watcher.join();
    for (int k = 0; k < n; k++) {
      if (crossed.deniedAt()[k] == 0) {
        throw new IllegalStateException(keyOf.apply(k) + " was never denied");
      }
    }
    return crossed;
  }

  /**
   * The same for organisation budgets: organisations of one key each, with a hard budget of 10,000
   * tokens a month and 9,000 used, pushed over it one every 50 ms; the time from sending the
   * crossing event to KeyGuard denying the key as ORG_SUSPENDED. The event goes through the key
   * task, the org repartition topic and the org task before alert-service suspends the org: the
   * hop probe times each of them, and both tasks' backlogs are sampled during the crossings.
   */
  private void orgCrossings(KafkaProducer<String, byte[]> producer, KeyGuard guard, HttpClient http, int httpPort,
      Measure.HopProbe hops, String bootstrap, String groupId) throws Exception {
    int orgs = 50;
    long budget = 10_000;
    List<String> secrets = new ArrayList<>();
    for (int i = 0; i < orgs; i++) {
      String org = "enf-org-" + i;
      String secret = "bench-org-secret-" + i;
      secrets.add(secret);
      producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), org + "-key", Topics.API_KEYS.encode(
          Dataset.key(org + "-key", org, Secrets.hash(secret), null, false))));
      producer.send(new ProducerRecord<>(Topics.ORG_BUDGETS.name(), org, Topics.ORG_BUDGETS.encode(
          OrgBudget.newBuilder().setOrgId(org).setMaxTokensPerMonth(budget).setMaxCostMicrosPerMonth(null)
              .setHardLimit(true).setUpdatedBy("bench@example.com").setUpdatedAt(0L).build())));
    }
    producer.flush();
    Measure.await("KeyGuard to know the org keys", Duration.ofSeconds(30),
        () -> guard.authorize(secrets.get(orgs - 1), "messages:write").allowed());
    for (int i = 0; i < orgs; i++) {
      send(producer, "enf-org-" + i + "-key", "enf-org-" + i, budget - 1_000);
    }
    producer.flush();
    String today = LocalDate.now(ZoneOffset.UTC).toString();
    for (int i = 0; i < orgs; i++) {
      URI uri = URI.create("http://127.0.0.1:" + httpPort + "/v1/orgs/enf-org-" + i + "/usage?start_date=" + today
          + "&end_date=" + today);
      Measure.await("enf-org-" + i + " metered", Duration.ofSeconds(60), () -> {
        try {
          return http.send(query(uri), HttpResponse.BodyHandlers.ofString()).body()
              .contains("\"total_tokens\":" + (budget - 1_000));
        } catch (Exception notYet) {
          return false;
        }
      });
    }
    Measure.BacklogSampler usageBacklog = new Measure.BacklogSampler(bootstrap, groupId);
    Measure.BacklogSampler orgBacklog = new Measure.BacklogSampler(bootstrap, groupId,
        groupId + Measure.ORG_REPARTITION);
    Crossed crossed;
    try (usageBacklog; orgBacklog) {
      crossed = cross(producer, guard, secrets, k -> "enf-org-" + k + "-key", k -> "enf-org-" + k, CROSSING_TOKENS);
    }
    long[] usageWaiting = usageBacklog.samples();
    long[] orgWaiting = orgBacklog.samples();
    results.add("enforcement", "usage events not yet committed during the org crossings, p50",
        Measure.percentile(usageWaiting, 50), "records", String.format("p99 %.0f; by the key tasks",
            Measure.percentile(usageWaiting, 99)));
    results.add("enforcement", "org repartition records not yet committed during the org crossings, p50",
        Measure.percentile(orgWaiting, 50), "records", String.format("p99 %.0f; by the org tasks",
            Measure.percentile(orgWaiting, 99)));
    long[] latencies = new long[orgs];
    for (int k = 0; k < orgs; k++) {
      latencies[k] = (crossed.deniedAt()[k] - crossed.sentAt()[k]) / 1_000_000;
    }
    results.add("enforcement", "org budget: crossing to KeyGuard ORG_SUSPENDED, p50", Measure.percentile(latencies, 50),
        "ms", orgs + " organisations, one crossing every 50 ms; no target in issue 15");
    results.add("enforcement", "org budget: crossing to KeyGuard ORG_SUSPENDED, p99", Measure.percentile(latencies, 99),
        "ms", "through the key task, the org repartition topic and the org task, then alert-service");
    orgHop(crossed, hops.orgHandedOverAt, "org hop 1a: crossing to its record readable on the org repartition topic",
        "the key task's commit");
    orgHop(crossed, hops.orgBreachedAt, "org hops 1a+1b: crossing to the org's LIMIT_BREACHED readable",
        "then the org task, to its commit");
    orgHop(crossed, hops.orgSuspendedAt, "org hops 1+2: crossing to the org's SUSPENDED readable",
        "then alert-service; the rest is KeyGuard's view");
  }

  /** p50 and p99 of the time from each org crossing to its record first seen in {@code seenAt}; orgs not seen are left out. */
  private void orgHop(Crossed crossed, Map<String, Long> seenAt, String name, String note) {
    List<Long> seen = new ArrayList<>();
    int orgs = crossed.sentAt().length;
    for (int k = 0; k < orgs; k++) {
      Long at = seenAt.get("enf-org-" + k);
      if (at != null) {
        seen.add((at - crossed.sentAt()[k]) / 1_000_000);
      }
    }
    long[] millis = seen.stream().mapToLong(Long::longValue).toArray();
    results.add("enforcement", name + ", p50", Measure.percentile(millis, 50), "ms",
        String.format("%s; p99 %.0f ms (%d of %d seen)", note, Measure.percentile(millis, 99), millis.length, orgs));
  }

  private void queries(int httpPort) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + httpPort;
    String since = Instant.now().minus(31, ChronoUnit.DAYS).truncatedTo(ChronoUnit.DAYS).toString();
    Random random = new Random(5);
    int n = quick ? 200 : 1000;
    String currentPeriod = "/v1/keys/{api_key_id}/current_period";
    Fetch client = (url, buffer, bytesAndFailures) -> timed(http, url, buffer, bytesAndFailures);
    java.util.function.Supplier<String> anyKeyPeriod =
        () -> base + "/v1/keys/" + Dataset.keyId(dataset.anyKey(random)) + "/current_period";
    timeInHandler(http, httpPort, currentPeriod, "one key, current period",
        () -> timeQueries(client, n, anyKeyPeriod, "one key, current period", "target p99 <= 5 ms"));
    timeQueries(client, n, () -> base + "/health/live", "metering-stream's /health/live",
        "the same HTTP server answering without reading a store");
    timeQueries(BenchMain::blockingTimed, n, anyKeyPeriod, "one key, current period, blocking client",
        "the same queries from a client working on the calling thread (HttpURLConnection, keep-alive)");
    byte[] oneKey = http.send(query(URI.create(anyKeyPeriod.get())), HttpResponse.BodyHandlers.ofByteArray()).body();
    long[] oneKeyFloor = floorMicros(http, oneKey, n);
    results.add("queries", "floor: one key's bytes from a static endpoint, p99", Measure.percentile(oneKeyFloor, 99) / 1000.0,
        "ms", "p50 " + String.format("%.2f", Measure.percentile(oneKeyFloor, 50) / 1000.0)
            + " ms; an HTTP round trip on loopback under the same load");
    timeQueries(client, n / 2, () -> base + "/v1/keys/" + Dataset.keyId(dataset.anyKey(random))
        + "/usage_report?bucket_width=1d&starting_at=" + since, "one key, 31 daily buckets", "");
    String byKey = base + "/v1/orgs/" + dataset.topOrg() + "/usage_report?bucket_width=1d&group_by=api_key_id&starting_at="
        + since;
    String page = "busiest org, a page of 1,000 keys x 31 daily buckets";
    timeInHandler(http, httpPort, "/v1/orgs/{org_id}/usage_report", page,
        () -> timeQueries(client, 200, () -> byKey + "&limit=1000", page, "target p99 <= 50 ms"));
    timeWholeReport(http, byKey, "busiest org, whole report by key (" + dataset.keysOfTopOrg()
        + " keys x 31 days, pages of 1,000)");
  }

  /**
   * An org's whole report by key, page after page, {@code 200} times; then the floor: the same bytes
   * from a static endpoint on loopback (a JDK HTTP server in this JVM), fetched the same way.
   */
  private void timeWholeReport(HttpClient http, String firstPage, String name) throws Exception {
    java.io.ByteArrayOutputStream whole = new java.io.ByteArrayOutputStream();
    for (int i = 0; i < 20; i++) {
      whole.reset();
      wholeReport(http, firstPage, whole);
    }
    int count = 200;
    long[] micros = new long[count];
    int pages = 0;
    for (int i = 0; i < count; i++) {
      whole.reset();
      long start = System.nanoTime();
      pages = wholeReport(http, firstPage, whole);
      micros[i] = (System.nanoTime() - start) / 1_000;
    }
    byte[] bytes = whole.toByteArray();
    results.add("queries", name + ", p50", Measure.percentile(micros, 50) / 1000.0, "ms", count + " reports of "
        + pages + " pages, " + String.format("%.1f MB", bytes.length / 1e6) + " each");
    results.add("queries", name + ", p99", Measure.percentile(micros, 99) / 1000.0, "ms", "target p99 <= 200 ms");

    long[] floorMicros = floorMicros(http, bytes, count);
    results.add("queries", "floor: the same bytes from a static endpoint, p99", Measure.percentile(floorMicros, 99) / 1000.0,
        "ms", "p50 " + String.format("%.1f", Measure.percentile(floorMicros, 50) / 1000.0) + " ms; what moving them costs here");
  }

  /**
   * What serving {@code bytes} costs here without computing them: {@code count} requests to a static
   * endpoint on loopback (a JDK HTTP server in this JVM, next to the broker), timed like a query.
   */
  private static long[] floorMicros(HttpClient http, byte[] bytes, int count) throws Exception {
    com.sun.net.httpserver.HttpServer floor = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
    floor.createContext("/", exchange -> {
      exchange.sendResponseHeaders(200, bytes.length);
      try (var out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    });
    floor.start();
    try {
      String url = "http://127.0.0.1:" + floor.getAddress().getPort() + "/report";
      byte[] buffer = new byte[64 * 1024];
      long[] ignored = new long[2];
      for (int i = 0; i < 20; i++) {
        timed(http, url, buffer, ignored);
      }
      long[] micros = new long[count];
      for (int i = 0; i < count; i++) {
        micros[i] = timed(http, url, buffer, ignored);
      }
      return micros;
    } finally {
      floor.stop(0);
    }
  }

  /**
   * Where the stream threads' time went under the load, from one scrape of metering-stream's
   * /metrics after the crossings (not during them: a scrape computes every RocksDB gauge): Kafka
   * Streams' own thread ratios over its rolling window (about the last minute) and its commit
   * latency, averaged over the stream threads (the maxima are the largest). Time in none of them is
   * a thread waiting in its poll loop with nothing to do.
   */
  private void threadTimeSplit(HttpClient http, int httpPort) throws Exception {
    String metrics = http.send(query(URI.create("http://127.0.0.1:" + httpPort + "/metrics")),
        HttpResponse.BodyHandlers.ofString()).body();
    Map<String, DoubleSummaryStatistics> values = perThread(metrics, THREAD_METRIC);
    if (values.isEmpty()) {
      System.out.println("no stream thread metrics in /metrics; the threads' time split is not reported");
      return;
    }
    long threads = stats(values, "process_ratio").getCount();
    results.add("enforcement", "stream thread time: processing / committing / polling / punctuating",
        100 * mean(values, "process_ratio"), "%", String.format(
            "commit %.0f%%, poll %.0f%%, punctuate %.0f%%; Kafka Streams' ratios over its last minute, after the"
                + " crossings, the mean of %d stream threads", 100 * mean(values, "commit_ratio"),
            100 * mean(values, "poll_ratio"), 100 * mean(values, "punctuate_ratio"), threads));
    // the stream threads' consumers: whether their fetches wait on the broker (fetch.max.wait.ms is 500 ms)
    Map<String, DoubleSummaryStatistics> fetches = perThread(metrics, CONSUMER_FETCH_METRIC);
    results.add("enforcement", "stream threads' consumers, fetch latency, average", mean(fetches, "fetch_latency_avg"),
        "ms", String.format("max %.0f ms, %.0f fetches/s in all", max(fetches, "fetch_latency_max"),
            stats(fetches, "fetch_rate").getSum()));
    results.add("enforcement", "stream thread commit latency, average", mean(values, "commit_latency_avg"), "ms",
        String.format("max %.0f ms; %.0f records processed per iteration on average", max(values, "commit_latency_max"),
            mean(values, "process_records_avg")));
  }

  /** Kafka Streams' per-thread metrics: name in group 1, labels in group 2, value in group 3. */
  private static final java.util.regex.Pattern THREAD_METRIC = java.util.regex.Pattern.compile(
      "(?m)^kafka_stream_thread_(process_ratio|punctuate_ratio|poll_ratio|commit_ratio|commit_latency_avg"
          + "|commit_latency_max|process_records_avg)\\{([^}]*)\\} ([-0-9.Ee+]+)$");
  /** The fetch metrics of the stream threads' main consumers (not the restore consumer). */
  private static final java.util.regex.Pattern CONSUMER_FETCH_METRIC = java.util.regex.Pattern.compile(
      "(?m)^kafka_consumer_fetch_manager_(fetch_latency_avg|fetch_latency_max|fetch_rate)"
          + "\\{([^}]*-StreamThread-[0-9]+-consumer[^}]*)\\} ([-0-9.Ee+]+)$");

  /** Each metric's values over the threads, leaving out per-topic lines (a consumer's fetch metrics have both). */
  private static Map<String, DoubleSummaryStatistics> perThread(String metrics, java.util.regex.Pattern pattern) {
    Map<String, DoubleSummaryStatistics> values = new HashMap<>();
    java.util.regex.Matcher line = pattern.matcher(metrics);
    while (line.find()) {
      if (!line.group(2).contains("topic=")) {
        values.computeIfAbsent(line.group(1), name -> new DoubleSummaryStatistics())
            .accept(Double.parseDouble(line.group(3)));
      }
    }
    return values;
  }

  private static DoubleSummaryStatistics stats(Map<String, DoubleSummaryStatistics> values, String name) {
    return values.getOrDefault(name, new DoubleSummaryStatistics());
  }

  private static double mean(Map<String, DoubleSummaryStatistics> values, String name) {
    DoubleSummaryStatistics stats = stats(values, name);
    return stats.getCount() == 0 ? Double.NaN : stats.getAverage();
  }

  private static double max(Map<String, DoubleSummaryStatistics> values, String name) {
    DoubleSummaryStatistics stats = stats(values, name);
    return stats.getCount() == 0 ? Double.NaN : stats.getMax();
  }

  /** A measurement that may throw. */
  @FunctionalInterface
  private interface Timing {
    void run() throws Exception;
  }

  /**
   * Runs {@code timing}, the only requests to {@code route} meanwhile, and reports their p99 and p50
   * in metering-stream's handler, from its request histogram read before and after.
   */
  private void timeInHandler(HttpClient http, int httpPort, String route, String name, Timing timing) throws Exception {
    Map<Double, Double> before = routeHistogram(http, httpPort, route);
    timing.run();
    Map<Double, Double> after = routeHistogram(http, httpPort, route);
    results.add("queries", name + ", p99 in metering-stream's handler", histogramQuantile(before, after, 0.99) * 1000,
        "ms", String.format("p50 %.2f ms; from its request histogram (a bucket's upper bound): the query's own"
            + " work and writing its answer, the rest is the round trip", histogramQuantile(before, after, 0.50) * 1000));
  }

  /**
   * The cumulative counts of metering-stream's request histogram for one route's 200s, by bucket
   * upper bound in seconds, from one scrape of its /metrics.
   */
  private static Map<Double, Double> routeHistogram(HttpClient http, int httpPort, String route) throws Exception {
    String metrics = http.send(query(URI.create("http://127.0.0.1:" + httpPort + "/metrics")),
        HttpResponse.BodyHandlers.ofString()).body();
    Map<Double, Double> buckets = new java.util.TreeMap<>();
    java.util.regex.Matcher line = REQUEST_BUCKET.matcher(metrics);
    while (line.find()) {
      String labels = line.group(1);
      java.util.regex.Matcher le = BUCKET_BOUND.matcher(labels);
      if (labels.contains("route=\"" + route + "\"") && labels.contains("status=\"200\"") && le.find()) {
        double bound = "+Inf".equals(le.group(1)) ? Double.POSITIVE_INFINITY : Double.parseDouble(le.group(1));
        buckets.merge(bound, Double.parseDouble(line.group(2)), Double::sum);
      }
    }
    return buckets;
  }

  private static final java.util.regex.Pattern REQUEST_BUCKET = java.util.regex.Pattern.compile(
      "(?m)^http_server_requests_seconds_bucket\\{(.*)\\} ([-0-9.Ee+]+)$");
  private static final java.util.regex.Pattern BUCKET_BOUND = java.util.regex.Pattern.compile("le=\"([^\"]+)\"");

  /** The upper bound of the bucket holding quantile {@code q} of what was recorded between two scrapes. */
  private static double histogramQuantile(Map<Double, Double> before, Map<Double, Double> after, double q) {
    double total = after.getOrDefault(Double.POSITIVE_INFINITY, 0.0) - before.getOrDefault(Double.POSITIVE_INFINITY, 0.0);
    for (Map.Entry<Double, Double> bucket : after.entrySet()) {
      if (bucket.getValue() - before.getOrDefault(bucket.getKey(), 0.0) >= q * total) {
        return bucket.getKey();
      }
    }
    return Double.NaN;
  }

  /** A GET of metering-stream's query API, with the service token it wants. */
  private static HttpRequest query(URI uri) {
    return HttpRequest.newBuilder(uri).header("Authorization", queryAuthorization).build();
  }

  /** Reads every page of a report into {@code into}; returns how many pages. */
  private static int wholeReport(HttpClient http, String firstPage, java.io.ByteArrayOutputStream into) throws Exception {
    int pages = 0;
    for (String url = firstPage; url != null; pages++) {
      HttpResponse<byte[]> response = http.send(query(URI.create(url)), HttpResponse.BodyHandlers.ofByteArray());
      if (response.statusCode() != 200) {
        throw new IllegalStateException("report page answered " + response.statusCode());
      }
      into.write(response.body());
      String tail = new String(response.body(), Math.max(0, response.body().length - 400),
          Math.min(400, response.body().length), java.nio.charset.StandardCharsets.UTF_8);
      java.util.regex.Matcher next = NEXT_PAGE.matcher(tail);
      url = next.find() ? firstPage + "&page=" + next.group(1) : null;
    }
    return pages;
  }

  private static final java.util.regex.Pattern NEXT_PAGE = java.util.regex.Pattern.compile("\"next_page\":\"([^\"]+)\"");

  private void timeQueries(Fetch fetch, int count, java.util.function.Supplier<String> url, String name,
      String note) throws Exception {
    byte[] buffer = new byte[64 * 1024];
    long[] warmUp = new long[2];
    long coldMicros = fetch.timed(url.get(), buffer, warmUp);
    for (int i = 1; i < Math.min(20, count); i++) {
      fetch.timed(url.get(), buffer, warmUp);
    }
    long[] micros = new long[count];
    long[] bytesAndFailures = new long[2];
    for (int i = 0; i < count; i++) {
      micros[i] = fetch.timed(url.get(), buffer, bytesAndFailures);
    }
    long bytes = bytesAndFailures[0];
    String size = bytes / count >= 1_000_000 ? String.format("%.1f MB", bytes / count / 1e6)
        : String.format("%.1f kB", bytes / count / 1e3);
    if (name.contains("org")) {
      results.add("queries", name + ", first request", coldMicros / 1000.0, "ms", "after the throughput runs");
    }
    results.add("queries", name + ", p50", Measure.percentile(micros, 50) / 1000.0, "ms", count + " requests, "
        + bytesAndFailures[1] + " not 200, " + size + " each");
    results.add("queries", name + ", p99", Measure.percentile(micros, 99) / 1000.0, "ms", note);
  }

  /** One timed request of a query: how a client sends it and reads its answer. */
  @FunctionalInterface
  private interface Fetch {
    /** See {@link BenchMain#timed}. */
    long timed(String url, byte[] buffer, long[] bytesAndFailures) throws Exception;
  }

  /**
   * {@link #timed} with a blocking client that does all its work on the calling thread (the JDK's
   * HttpURLConnection, keep-alive): java.net.http's client hands every response from its selector
   * thread to an executor thread and then to the caller, each a wake-up that waits for a core here.
   */
  private static long blockingTimed(String url, byte[] buffer, long[] bytesAndFailures) throws Exception {
    long start = System.nanoTime();
    java.net.HttpURLConnection connection = (java.net.HttpURLConnection) URI.create(url).toURL().openConnection();
    connection.setRequestProperty("Authorization", queryAuthorization);
    int status = connection.getResponseCode();
    try (java.io.InputStream body = status < 400 ? connection.getInputStream() : connection.getErrorStream()) {
      // read to the end and close: the connection goes back to the keep-alive cache for the next request
      for (int n = body == null ? -1 : body.read(buffer); n >= 0; n = body.read(buffer)) {
        bytesAndFailures[0] += n;
      }
    }
    long micros = (System.nanoTime() - start) / 1_000;
    if (status != 200) {
      bytesAndFailures[1]++;
    }
    return micros;
  }

  /**
   * One request, read to its last byte, in microseconds; adds its size to {@code bytesAndFailures[0]}
   * and counts it in [1] unless it was a 200. The client keeps none of the body: an org report is
   * tens of megabytes, and collecting it into one array took CPU from the server it shares two cores with.
   */
  private static long timed(HttpClient http, String url, byte[] buffer, long[] bytesAndFailures) throws Exception {
    long start = System.nanoTime();
    HttpResponse<java.io.InputStream> response = http.send(query(URI.create(url)),
        HttpResponse.BodyHandlers.ofInputStream());
    try (java.io.InputStream body = response.body()) {
      for (int n = body.read(buffer); n >= 0; n = body.read(buffer)) {
        bytesAndFailures[0] += n;
      }
    }
    long micros = (System.nanoTime() - start) / 1_000;
    if (response.statusCode() != 200) {
      bytesAndFailures[1]++;
    }
    return micros;
  }

  /**
   * Throughput with 1k, 10k and 100k keys, with 2 stream threads in one instance, and with two
   * instances (two JVMs of 1 stream thread each, one consumer group), each on a fresh broker; and
   * the CPU all instances together spent per event, which says what adding instances costs where
   * the rate cannot: on two cores shared with the broker, more threads have no cores to run on.
   */
  private void scaleCurve() throws Exception {
    // enough for the 20% - 80% window to outlast most of the JIT's warm-up in every JVM
    int perPoint = quick ? 100_000 : 300_000;
    // keys, stream threads per instance, instances
    for (int[] point : new int[][] {{1_000, 1, 1}, {10_000, 1, 1}, {10_000, 2, 1}, {10_000, 1, 2}, {100_000, 1, 1}}) {
      try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
        String bootstrap = kafka.bootstrapServers();
        prepare(bootstrap);
        Dataset data = new Dataset(point[0]);
        data.register(bootstrap);
        long records = data.produce(bootstrap, perPoint, 11);
        Map<String, String> env = meteringEnv(bootstrap, point[1]);
        List<StreamProcess> instances = new ArrayList<>();
        long start = System.nanoTime();
        try {
          for (int i = 0; i < point[2]; i++) {
            Map<String, String> own = new HashMap<>(env);
            own.put("METERING_STATE_DIR", Files.createDirectories(work.resolve("state-" + UUID.randomUUID())).toString());
            instances.add(StreamProcess.start(own, work));
          }
          Measure.Throughput rate = Measure.awaitCommitted(bootstrap, env.get("METERING_APPLICATION_ID"), records,
              start, Duration.ofMinutes(20), () -> instances.forEach(StreamProcess::requireAlive),
              Measure.CpuClock.sum(instances.stream().map(StreamProcess::cpuClock).toList()));
          String name = String.format("%,d keys, %d instance%s x %d stream thread%s", point[0], point[2],
              point[2] > 1 ? "s" : "", point[1], point[1] > 1 ? "s" : "");
          results.add("scale", name, rate.steady(), "ev/s",
              String.format("steady; %,.0f end to end; %d events", rate.endToEnd(), perPoint));
          results.add("scale", name + ", CPU per event", rate.cpuMicrosPerEvent(), "us",
              (point[2] > 1 ? "both processes together" : "the process") + ", JIT compiler excluded, 20% to 80% committed");
        } finally {
          for (StreamProcess instance : instances) {
            instance.close();
          }
        }
      }
    }
  }

  private void micro() throws Exception {
    var options = new OptionsBuilder().include(MicroBenchmarks.class.getName())
        .include(dev.metering.gateway.SpoolBenchmarks.class.getName()).forks(1)
        .warmupIterations(quick ? 1 : 2).warmupTime(TimeValue.seconds(1))
        .measurementIterations(quick ? 2 : 3).measurementTime(TimeValue.seconds(1))
        .shouldDoGC(true).build();
    for (RunResult result : new Runner(options).run()) {
      String name = result.getParams().getBenchmark().replaceAll(".*\\.", "");
      results.add("jmh", name, result.getPrimaryResult().getScore(), "ns/op",
          String.format("± %.1f", result.getPrimaryResult().getScoreError()));
    }
  }

  /** Creates the topics (TopicSetup waits until every partition has a leader, so the first sends do not bounce). */
  private void prepare(String bootstrap) {
    new dev.metering.config.KafkaSettings(bootstrap, partitions, (short) 1).ensureTopics();
  }

  /**
   * One run of {@code kind} (pipeline or baseline) in a JVM that first processed the whole input
   * under another application id; only its steady rate means something (its start is not timed).
   */
  private Measure.Throughput warmRun(String bootstrap, String kind, long records) throws Exception {
    Map<String, String> env = meteringEnv(bootstrap, streamThreads);
    try (StreamProcess process = StreamProcess.start(WarmedMain.class, env, work, kind, Long.toString(records))) {
      Measure.Throughput run = Measure.awaitCommitted(bootstrap, env.get("METERING_APPLICATION_ID"), records,
          System.nanoTime(), Duration.ofMinutes(60), process::requireAlive, process.cpuClock());
      System.out.printf("warm run: %s %,.0f ev/s steady, %,.0f us CPU per event%n", kind, run.steady(),
          run.cpuMicrosPerEvent());
      return run;
    }
  }

  /** metering-stream's environment for a run: a fresh application id and state directory. */
  private Map<String, String> meteringEnv(String bootstrap, int threads) throws IOException {
    return Map.of(
        "METERING_COMMIT_INTERVAL", System.getenv().getOrDefault("METERING_COMMIT_INTERVAL", "100ms"),
        "KAFKA_BOOTSTRAP_SERVERS", bootstrap,
        "METERING_APPLICATION_ID", "bench-metering-" + UUID.randomUUID(),
        "METERING_STATE_DIR", Files.createDirectories(work.resolve("state-" + UUID.randomUUID())).toString(),
        "METERING_STREAM_THREADS", Integer.toString(threads),
        "METERING_TOPIC_PARTITIONS", Integer.toString(partitions));
  }

  private static double totalMemoryGiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1048576.0;
        }
      }
    } catch (Exception notLinux) {
      // unknown
    }
    return 0;
  }
}
