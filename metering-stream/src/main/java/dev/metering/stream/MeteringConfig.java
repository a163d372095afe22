package dev.metering.stream;

import dev.metering.config.Env;
import dev.metering.config.InvalidConfigException;
import dev.metering.config.KafkaSettings;
import dev.metering.keys.ServiceToken;
import dev.metering.schemas.UsageLimits;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * metering-stream settings, read once from the environment and validated at start-up.
 *
 * @param kafka cluster and topic layout
 * @param applicationId {@code METERING_APPLICATION_ID}: Kafka Streams application id
 * @param stateDir {@code METERING_STATE_DIR}: where RocksDB stores live
 * @param processingGuarantee {@code METERING_PROCESSING_GUARANTEE}: exactly_once_v2 or at_least_once
 * @param streamThreads {@code METERING_STREAM_THREADS}: stream threads in this instance (see {@link #DEFAULT_STREAM_THREADS})
 * @param futureTolerance {@code METERING_FUTURE_TOLERANCE}: how far ahead of the wall clock an event time may be
 * @param lateGrace {@code METERING_LATE_GRACE}: how late an event may arrive and still be counted
 * @param dedupWindow {@code METERING_DEDUP_WINDOW}: how long an event_id is remembered
 * @param pricingFile {@code METERING_PRICING_FILE}: a pricing JSON file replacing the bundled one
 * @param spikeFactor {@code METERING_SPIKE_FACTOR}: a day is a spike above factor x the same weekday a week before
 * @param spikeMinBaselineTokens {@code METERING_SPIKE_MIN_BASELINE_TOKENS}: smaller baselines never spike
 * @param hourlyRetention {@code METERING_HOURLY_RETENTION}: how long hourly buckets are queryable
 * @param dailyRetention {@code METERING_DAILY_RETENTION}: how long daily buckets are queryable
 * @param rocksDbMemoryBytes {@code METERING_ROCKSDB_MEMORY_MB}: block cache and write buffers of all stores together
 * @param instanceId {@code METERING_INSTANCE_ID}: a stable id per instance (static group membership), so a
 *     restarted instance takes its partitions back at once instead of after a rebalance
 * @param standbyReplicas {@code METERING_STANDBY_REPLICAS}: warm copies of each partition's state on other
 *     instances, for fast fail-over and for stale reads (allow_stale=true)
 * @param commitInterval {@code METERING_COMMIT_INTERVAL}: how often results are committed (exactly_once_v2:
 *     the longest a threshold crossing or spike waits to become visible; a breach of live usage commits at
 *     once, see {@link dev.metering.stream.limits.PromptCommit}); at most {@link #MAX_COMMIT_INTERVAL}
 * @param httpBind {@code METERING_HTTP_BIND}: address the query server listens on; loopback unless set
 * @param queryToken {@code METERING_QUERY_TOKEN}: the service token callers of the query API (admin-api, the other
 *     instances) present; generated per process when unset, which suits one instance in one process only
 * @param httpPort {@code METERING_HTTP_PORT}: its port; 0 picks a free one
 * @param advertisedHost {@code METERING_ADVERTISED_HOST}: the host other instances reach this one at
 * @param maxModelsPerBucket {@code METERING_MAX_MODELS_PER_BUCKET}: models an hourly or daily bucket names;
 *     the usage of any further model is summed under "(other models)"
 * @param maxRulesPerKey {@code METERING_MAX_RULES_PER_KEY}: alert rules of one key that are evaluated; further
 *     rules (admin-api refuses to create them) are ignored with a warning
 * @param partitionIdleAfter {@code METERING_PARTITION_IDLE_AFTER}: how long a usage-events partition may accept
 *     no usage before org spikes are judged without waiting for it
 * @param queryCacheBytes {@code METERING_QUERY_CACHE_MB}: memory (heap) for org days kept rendered for reports by
 *     key once no partition can accept usage for them; 0 renders every day on every request
 * @param storeCacheBytes {@code METERING_STORE_CACHE_MB}: heap for Kafka Streams' record caches, shared by the
 *     stream threads (see {@link #DEFAULT_STORE_CACHE_MB})
 */
public record MeteringConfig(
    KafkaSettings kafka,
    String applicationId,
    Path stateDir,
    String processingGuarantee,
    int streamThreads,
    Duration futureTolerance,
    Duration lateGrace,
    Duration dedupWindow,
    Optional<Path> pricingFile,
    double spikeFactor,
    long spikeMinBaselineTokens,
    Duration hourlyRetention,
    Duration dailyRetention,
    long rocksDbMemoryBytes,
    Optional<String> instanceId,
    int standbyReplicas,
    Duration commitInterval,
    String httpBind,
    ServiceToken queryToken,
    int httpPort,
    String advertisedHost,
    int maxModelsPerBucket,
    int maxRulesPerKey,
    Duration partitionIdleAfter,
    long queryCacheBytes,
    long storeCacheBytes) {

  /**
   * The longest commit interval: a task's transaction stays open that long, and its timeout
   * ({@link StreamsSettings}: three intervals) must stay under the broker's
   * transaction.max.timeout.ms (15 minutes by default).
   */
  public static final Duration MAX_COMMIT_INTERVAL = Duration.ofMinutes(5);

  /**
   * Two stream threads even on two cores: a stream thread waits on its fetches and its transaction
   * commits, and a second one processes meanwhile. Under the benchmark's live load a crossing reached
   * SUSPENDED in 82 - 139 ms at p99 with two threads against 241 - 321 ms with one, at the same
   * CPU (five runs each; docs/benchmarks.md, "Two stream threads").
   */
  public static final int DEFAULT_STREAM_THREADS = 2;

  /**
   * Kafka Streams' record caches, in MiB for all stream threads together: Kafka Streams' own 10 by
   * default. Only stores that coalesce writes are cached (the org totals and months, the ingest
   * counters and progress; the configuration tables are not: {@code MeteringTopology}). When the
   * configuration tables were cached too, the cache was always full at 10,000 keys and 128 MiB made
   * the benchmark's pipeline a fifth faster (141 against 167 us per event) but an organisation's
   * budget crossing 2 - 3 times slower at the same load (p50 419 - 513 against 160 - 250 ms) for a
   * reason not found, so a larger cache is an option for backfills, not the default
   * (docs/benchmarks.md, "Record cache size").
   */
  public static final int DEFAULT_STORE_CACHE_MB = 10;

  public MeteringConfig {
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(applicationId, "applicationId");
    Objects.requireNonNull(stateDir, "stateDir");
    Objects.requireNonNull(processingGuarantee, "processingGuarantee");
    Objects.requireNonNull(futureTolerance, "futureTolerance");
    Objects.requireNonNull(lateGrace, "lateGrace");
    Objects.requireNonNull(dedupWindow, "dedupWindow");
    Objects.requireNonNull(queryToken, "queryToken");
    Objects.requireNonNull(pricingFile, "pricingFile");
    Objects.requireNonNull(hourlyRetention, "hourlyRetention");
    Objects.requireNonNull(dailyRetention, "dailyRetention");
    Objects.requireNonNull(instanceId, "instanceId");
    Objects.requireNonNull(httpBind, "httpBind");
    Objects.requireNonNull(advertisedHost, "advertisedHost");
    Objects.requireNonNull(partitionIdleAfter, "partitionIdleAfter");
    // An event within the grace must still find its original in the dedup store and its hour in
    // the hourly store; otherwise a backfill with a long grace would count duplicates again, or
    // write into buckets the store has already dropped.
    if (lateGrace.compareTo(dedupWindow) > 0) {
      throw new InvalidConfigException("METERING_LATE_GRACE", lateGrace.toString(),
          "at most METERING_DEDUP_WINDOW (" + dedupWindow + "); raise both for a backfill");
    }
    if (lateGrace.compareTo(hourlyRetention.minusDays(1)) > 0) {
      throw new InvalidConfigException("METERING_LATE_GRACE", lateGrace.toString(),
          "at least a day less than METERING_HOURLY_RETENTION (" + hourlyRetention + "); raise both for a backfill");
    }
  }

  public static MeteringConfig from(Env env) {
    String guarantee = env.string("METERING_PROCESSING_GUARANTEE", "exactly_once_v2");
    if (!guarantee.equals("exactly_once_v2") && !guarantee.equals("at_least_once")) {
      throw new InvalidConfigException(
          "METERING_PROCESSING_GUARANTEE", guarantee, "exactly_once_v2 or at_least_once");
    }
    return new MeteringConfig(
        KafkaSettings.from(env),
        env.string("METERING_APPLICATION_ID", "metering-stream"),
        Path.of(env.string("METERING_STATE_DIR", Path.of(System.getProperty("java.io.tmpdir"), "metering-stream").toString())),
        guarantee,
        env.intInRange("METERING_STREAM_THREADS", DEFAULT_STREAM_THREADS, 1, 64),
        env.duration("METERING_FUTURE_TOLERANCE", UsageLimits.DEFAULT_FUTURE_TOLERANCE, Duration.ZERO),
        env.duration("METERING_LATE_GRACE", UsageLimits.DEFAULT_LATE_GRACE, Duration.ZERO),
        env.duration("METERING_DEDUP_WINDOW", Duration.ofDays(7), Duration.ofMinutes(1)),
        Optional.ofNullable(env.string("METERING_PRICING_FILE", null)).map(Path::of),
        env.doubleAtLeast("METERING_SPIKE_FACTOR", 3.0, 1.0),
        env.longInRange("METERING_SPIKE_MIN_BASELINE_TOKENS", 1_000, 0, Long.MAX_VALUE),
        env.duration("METERING_HOURLY_RETENTION", Duration.ofDays(35), Duration.ofDays(2)),
        env.duration("METERING_DAILY_RETENTION", Duration.ofDays(400), Duration.ofDays(15)),
        env.longInRange("METERING_ROCKSDB_MEMORY_MB", 256, 16, 1 << 20) * 1024 * 1024,
        Optional.ofNullable(env.string("METERING_INSTANCE_ID", null)),
        env.intInRange("METERING_STANDBY_REPLICAS", 0, 0, 10),
        env.durationInRange("METERING_COMMIT_INTERVAL", Duration.ofMillis(100), Duration.ofMillis(10), MAX_COMMIT_INTERVAL),
        env.string("METERING_HTTP_BIND", "127.0.0.1"),
        ServiceToken.from(env, "METERING_QUERY_TOKEN", true),
        env.intInRange("METERING_HTTP_PORT", 8081, 0, 65_535),
        env.string("METERING_ADVERTISED_HOST", "localhost"),
        env.intInRange("METERING_MAX_MODELS_PER_BUCKET", 64, 1, 1_000),
        env.intInRange("METERING_MAX_RULES_PER_KEY", UsageLimits.MAX_ALERT_RULES_PER_KEY, 1, 1_000),
        env.duration("METERING_PARTITION_IDLE_AFTER", Duration.ofMinutes(1), Duration.ofSeconds(1)),
        env.longInRange("METERING_QUERY_CACHE_MB", 64, 0, 1 << 16) * 1024 * 1024,
        env.longInRange("METERING_STORE_CACHE_MB", DEFAULT_STORE_CACHE_MB, 0, 1 << 16) * 1024 * 1024);
  }
}
