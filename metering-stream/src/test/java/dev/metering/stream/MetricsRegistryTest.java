package dev.metering.stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

class MetricsRegistryTest {

  @Test
  void shouldExportRocksDbMetricsOfWindowAndKeyValueStoresUnderOneName() {
    PrometheusMeterRegistry registry = StreamHealth.metricsRegistry();
    // as Kafka Streams' binder registers them: the same name, the store's id under two tag keys
    Gauge.builder("kafka.stream.state.num.immutable.mem.table", () -> 1).tag("rocksdb.state.id", "ingest-counters")
        .tag("task.id", "0_0").register(registry);
    Gauge.builder("kafka.stream.state.num.immutable.mem.table", () -> 2).tag("rocksdb.window.state.id", "key-daily-totals")
        .tag("task.id", "0_0").register(registry);

    String scrape = registry.scrape();

    assertTrue(scrape.contains("rocksdb_state_id=\"ingest-counters\""), scrape);
    assertTrue(scrape.contains("rocksdb_state_id=\"key-daily-totals\""), scrape);
  }
}
