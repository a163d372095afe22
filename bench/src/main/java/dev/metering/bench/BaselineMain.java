package dev.metering.bench;

import dev.metering.config.Env;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.RecordSerdes;
import dev.metering.schemas.Topics;
import dev.metering.stream.MeteringConfig;
import dev.metering.stream.StreamsSettings;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Baseline (b): Kafka Streams with exactly_once_v2 doing one hourly windowed sum per key, run the
 * way metering-stream runs so the two compare fairly: a JVM of its own (started by
 * {@link StreamProcess} with the same heap), configured from the same environment through
 * {@link StreamsSettings} (threads, commit interval, bounded RocksDB memory, lz4), the same late
 * grace (so it counts what the pipeline counts instead of dropping records as expired), the
 * pipeline's hourly retention, and no record cache, like the pipeline's per-key stores.
 */
public final class BaselineMain {

  private BaselineMain() {
  }

  public static void main(String[] args) throws InterruptedException {
    runUntilStopped(start(MeteringConfig.from(Env.system())));
  }

  /** Keeps a started instance running until the JVM is asked to stop (SIGTERM), then closes it. */
  static void runUntilStopped(AutoCloseable instance) throws InterruptedException {
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        instance.close();
      } catch (Exception e) {
        e.printStackTrace();
      }
      stopped.countDown();
    }));
    stopped.await();
  }

  /** Starts the baseline; closing what it returns stops it. */
  static AutoCloseable start(MeteringConfig config) {
    KafkaStreams streams = new KafkaStreams(topology(config), StreamsSettings.of(config));
    streams.start();
    return () -> streams.close(Duration.ofSeconds(30));
  }

  static Topology topology(MeteringConfig config) {
    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(Topics.USAGE_EVENTS.name(), Consumed.with(Serdes.String(), RecordSerdes.usageEvent())
            .withTimestampExtractor((record, partitionTime) -> ((UsageEvent) record.value()).getTimestamp()))
        .groupByKey()
        .windowedBy(TimeWindows.ofSizeAndGrace(Duration.ofHours(1), config.lateGrace()))
        .aggregate(() -> 0L, (key, e, sum) -> sum + e.getInputTokens() + e.getOutputTokens()
                + e.getCacheCreationInputTokens() + e.getCacheReadInputTokens(),
            Materialized.<String, Long, WindowStore<Bytes, byte[]>>with(Serdes.String(), Serdes.Long())
                .withRetention(config.hourlyRetention())
                .withCachingDisabled());
    return builder.build();
  }
}
