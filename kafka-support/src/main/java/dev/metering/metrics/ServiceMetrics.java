package dev.metering.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every service measures the same way: the JVM, and the records a consumer had to skip
 * because they do not decode. A service adds the registry its /metrics scrapes with
 * {@link #attach}; counters made here (in Micrometer's global registry) then appear in it.
 */
public final class ServiceMetrics {

  private static final Logger log = LoggerFactory.getLogger(ServiceMetrics.class);

  private ServiceMetrics() {
  }

  /** Binds JVM metrics to {@code registry} and makes it receive the shared counters. */
  public static void attach(MeterRegistry registry) {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    Metrics.addRegistry(registry);
  }

  /** Stops {@code registry} receiving the shared counters (the service stops). */
  public static void detach(MeterRegistry registry) {
    Metrics.removeRegistry(registry);
  }

  /**
   * One HTTP request served: {@code http_server_requests_seconds{service, method, route, status}},
   * a histogram, so latency percentiles can be computed across instances.
   */
  public static void httpRequest(MeterRegistry registry, String service, String method, String route, int status,
      long nanos) {
    Timer.builder("http.server.requests")
        .description("HTTP requests served, by route and status")
        .tag("service", service)
        .tag("method", method)
        .tag("route", route == null || route.isEmpty() ? "(unmatched)" : route)
        .tag("status", Integer.toString(status))
        .publishPercentileHistogram()
        .register(registry)
        .record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
  }

  /**
   * The records {@code reader} found in a partition of {@code topic} other than their key's by
   * Kafka's default partitioner, which every writer here uses: a copy there cannot be ordered
   * against the key's own records, nor is it read where the key is. Counted in
   * {@code metering_records_misplaced_total{topic, reader}}; made before the first one, so the
   * series starts at 0 and an alert on it has a baseline.
   */
  public static Counter misplaced(String reader, String topic) {
    return Counter.builder("metering.records.misplaced")
        .description("Keyed records found in another partition than their key's, by topic and reader")
        .tag("topic", topic)
        .tag("reader", reader)
        .register(Metrics.globalRegistry);
  }

  /**
   * A record {@code reader} skips because it does not decode: logged with its coordinates (never
   * its bytes) and counted in {@code metering_records_unreadable_total{topic, reader}}. Nothing
   * is skipped silently.
   */
  public static void unreadable(String reader, ConsumerRecord<?, ?> record, Exception cause) {
    log.error("{} skipped an unreadable record of topic {} partition {} offset {}: {}", reader, record.topic(),
        record.partition(), record.offset(), cause.getMessage());
    Counter.builder("metering.records.unreadable")
        .description("Records skipped because they do not decode, by topic and reader")
        .tag("topic", record.topic())
        .tag("reader", reader)
        .register(Metrics.globalRegistry)
        .increment();
  }
}
