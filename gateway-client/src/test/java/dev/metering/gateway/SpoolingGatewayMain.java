package dev.metering.gateway;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * A gateway process for {@code UsageSpoolIT}, reporting calls of key {@code KEY} through a reporter
 * on {@code SPOOL_DIR} (none if unset) that keeps its metadata while the broker is away, as one does
 * while any broker of a larger cluster is up. It reports one call and waits for its acknowledgement
 * ("ready <id>"), waits for the file {@code GO} to exist, reports {@code CALLS} calls, printing each
 * event id once {@code record} returned (the gateway would now serve the call), then "recorded all",
 * and waits to be killed.
 */
public final class SpoolingGatewayMain {

  private SpoolingGatewayMain() {
  }

  public static void main(String[] args) throws InterruptedException {
    Properties settings = UsageReporter.producerSettings(System.getenv("KAFKA_BOOTSTRAP_SERVERS"),
        UsageReporter.FAIL_FAST_AFTER, UsageReporter.BUFFER_BYTES);
    settings.put(CommonClientConfigs.METADATA_RECOVERY_STRATEGY_CONFIG, "none");
    String spool = System.getenv("SPOOL_DIR");
    UsageReporter reporter = new UsageReporter(settings, "gw-spool", Clock.systemUTC(),
        spool == null ? null : Path.of(spool));
    String ready = reporter.record(call());
    reporter.flush();
    System.out.println("ready " + ready);
    Path go = Path.of(System.getenv("GO"));
    while (!Files.exists(go)) {
      Thread.sleep(20);
    }
    int calls = Integer.parseInt(System.getenv("CALLS"));
    for (int i = 0; i < calls; i++) {
      System.out.println("recorded " + reporter.record(call()));
    }
    System.out.println("recorded all");
    new CountDownLatch(1).await();
  }

  private static UsageReporter.Call call() {
    return new UsageReporter.Call("org-spool", System.getenv("KEY"), "m", 10, 5, 0, 0, null);
  }
}
