package dev.metering.stream;

import dev.metering.kafka.TopicSpec;
import dev.metering.stream.ingest.IngestProcessor;
import dev.metering.stream.usage.KeyUsageProcessor;
import dev.metering.stream.usage.OrgUsageProcessor;
import dev.metering.stream.usage.Periods;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.TopicConfig;

/**
 * The window stores of the topology with their retention, and the configs of their changelog
 * topics, set on purpose rather than left to Kafka Streams' defaults.
 *
 * <p>A window store's changelog is compacted and deleted by time. By default its records carry the
 * event time (CreateTime) and the broker deletes them once that is older than the store's
 * retention plus a day <em>by the wall clock</em>: while a month of history is backfilled, the
 * broker deleted changelog records the store still held, and a restore after a crash lacked event
 * ids that a later duplicate then matched no more (issue 13). The changelogs are therefore timed
 * by append time, and kept for the store's retention plus the late grace plus a day from when they
 * were written: a record leaves the changelog only after its store could have dropped it, even
 * when stream time stands still for the grace period.
 */
public final class StateTopics {

  /** A window store: its name, its window size, and how long it keeps a window after stream time passed it. */
  public record WindowStoreSpec(String name, Duration size, Duration retention) {
  }

  private StateTopics() {
  }

  public static List<WindowStoreSpec> windowStores(MeteringConfig config) {
    // Spike flags only matter while their day can still be judged: late events are accepted for the grace
    // period, and an org day waits for its baseline a week before to become final on every partition.
    Duration spikeFlags = config.lateGrace().plus(Duration.ofDays(10));
    Duration hour = Duration.ofMillis(Periods.HOUR_MILLIS);
    Duration day = Duration.ofMillis(Periods.DAY_MILLIS);
    return List.of(
        // event ids are looked up by their own time, plus or minus the window: a point each
        new WindowStoreSpec(IngestProcessor.DEDUP_STORE, Duration.ofMillis(1), config.dedupWindow()),
        new WindowStoreSpec(KeyUsageProcessor.HOURLY_STORE, hour, config.hourlyRetention()),
        new WindowStoreSpec(KeyUsageProcessor.DAILY_STORE, day, config.dailyRetention()),
        new WindowStoreSpec(KeyUsageProcessor.SPIKES_FIRED_STORE, day, spikeFlags),
        new WindowStoreSpec(OrgUsageProcessor.HOURLY_STORE, hour, config.hourlyRetention()),
        new WindowStoreSpec(OrgUsageProcessor.DAILY_STORE, day, config.dailyRetention()),
        new WindowStoreSpec(OrgUsageProcessor.SPIKES_FIRED_STORE, day, spikeFlags));
  }

  /** The changelog configs of a window store kept for {@code retention}. */
  public static Map<String, String> windowChangelogConfigs(MeteringConfig config, Duration retention) {
    Map<String, String> configs = new LinkedHashMap<>();
    configs.put(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime");
    configs.put(TopicConfig.RETENTION_MS_CONFIG,
        Long.toString(retention.plus(config.lateGrace()).plus(Duration.ofDays(1)).toMillis()));
    return configs;
  }

  /**
   * The window stores' changelog topics as Kafka Streams names them, with the configs above, for
   * bringing topics created by an earlier version in line (Kafka Streams sets configs only when it
   * creates a topic). Partition counts and replication are Kafka Streams' own and are not checked.
   */
  public static List<TopicSpec> changelogSpecs(MeteringConfig config) {
    List<TopicSpec> specs = new ArrayList<>();
    for (WindowStoreSpec store : windowStores(config)) {
      specs.add(new TopicSpec(config.applicationId() + "-" + store.name() + "-changelog", 1,
          config.kafka().replicationFactor(), windowChangelogConfigs(config, store.retention())));
    }
    return specs;
  }
}
