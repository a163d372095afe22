package dev.metering.stream;

import dev.metering.stream.ingest.IngestProcessor;
import dev.metering.stream.pricing.PriceBook;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One running metering-stream instance: the topology in a KafkaStreams client with its lifecycle. */
public final class MeteringApp implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MeteringApp.class);

  private final KafkaStreams streams;
  private final CountDownLatch stopped = new CountDownLatch(1);

  private MeteringApp(KafkaStreams streams) {
    this.streams = streams;
  }

  /** Builds the topology and starts it; returns at once, before the instance is RUNNING. */
  public static MeteringApp start(MeteringConfig config, PriceBook prices) {
    KafkaStreams streams = new KafkaStreams(MeteringTopology.build(config, prices), StreamsSettings.of(config));
    MeteringApp app = new MeteringApp(streams);
    streams.setStateListener((now, before) -> {
      log.info("metering-stream {} -> {}", before, now);
      if (now == KafkaStreams.State.NOT_RUNNING || now == KafkaStreams.State.ERROR) {
        app.stopped.countDown();
      }
    });
    // A failure that survives Kafka Streams' own retries is a bug or a broken cluster: stop this
    // instance loudly so its supervisor restarts it and someone looks, rather than loop on it.
    streams.setUncaughtExceptionHandler(e -> {
      log.error("metering-stream stopping after an unrecoverable error", e);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    streams.start();
    return app;
  }

  public KafkaStreams streams() {
    return streams;
  }

  /** Waits until RUNNING; false if the deadline passed or the instance stopped first. */
  public boolean awaitRunning(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      KafkaStreams.State state = streams.state();
      if (state == KafkaStreams.State.RUNNING) {
        return true;
      }
      if (!state.isRunningOrRebalancing()) {
        return false;
      }
      stopped.await(50, TimeUnit.MILLISECONDS);
    }
    return false;
  }

  /** Blocks until the instance has stopped; true if it stopped because of an error. */
  public boolean awaitStopped() throws InterruptedException {
    stopped.await();
    return streams.state() == KafkaStreams.State.ERROR;
  }

  /**
   * The exact ingest counters of the partitions this instance hosts, summed: accepted,
   * duplicate, dead_lettered and dead_lettered.REASON.
   */
  public Map<String, Long> localCounters() {
    ReadOnlyKeyValueStore<String, Long> store = streams.store(
        StoreQueryParameters.fromNameAndType(IngestProcessor.COUNTERS_STORE, QueryableStoreTypes.keyValueStore()));
    Map<String, Long> sums = new TreeMap<>();
    try (KeyValueIterator<String, Long> all = store.all()) {
      while (all.hasNext()) {
        KeyValue<String, Long> counter = all.next();
        sums.merge(counter.key, counter.value, Long::sum);
      }
    }
    return sums;
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(30));
  }

  public void close(Duration timeout) {
    if (!streams.close(timeout)) {
      log.warn("metering-stream did not stop within {}", timeout);
    }
  }
}
