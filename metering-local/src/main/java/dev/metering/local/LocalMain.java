package dev.metering.local;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One command for the whole system on a laptop: see {@link LocalSystem}. Prints the admin key and
 * the URLs, then a one-line summary every five seconds; Ctrl-C stops everything cleanly.
 * {@code METERING_LOCAL_TRAFFIC=false} leaves the traffic generator off.
 */
public final class LocalMain {

  private LocalMain() {
  }

  public static void main(String[] args) throws Exception {
    boolean traffic = !"false".equalsIgnoreCase(System.getenv("METERING_LOCAL_TRAFFIC"));
    LocalSystem system = LocalSystem.start(System.getenv(), traffic);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("stopping...");
      system.close();
      stopped.countDown();
    }, "metering-local-shutdown"));
    System.out.println();
    System.out.println("Token metering is running.");
    System.out.println("  admin key      " + system.adminKey() + "   (export ADMIN_KEY=" + system.adminKey() + ")");
    System.out.println("  admin API      " + system.adminUrl() + "   (OpenAPI: " + system.adminUrl() + "/openapi.json)");
    System.out.println("  console        " + system.adminUrl() + "/console/   (sign in with the admin key)");
    System.out.println("  command line   METERING_ADMIN_KEY=" + system.adminKey() + " KAFKA_BOOTSTRAP_SERVERS="
        + system.bootstrapServers() + " ./metering --help");
    System.out.println("  gateway        " + system.gatewayUrl() + "/v1/messages   (x-api-key: a key's secret)");
    System.out.println("  usage queries  " + system.meteringUrl() + "   (internal, loopback: " + system.queryAuthorization()
        + ")");
    System.out.println("  usage ingest   " + system.adminUrl() + "/v1/usage/events   (Bearer " + system.gatewayToken()
        + ", for " + system.gatewayOrgs() + ")");
    System.out.println("  alert health   " + system.alertsUrl() + "/health/ready");
    System.out.println("  Kafka          " + system.bootstrapServers());
    if (system.smtp() != null) {
      System.out.println("  SMTP sink      127.0.0.1:" + system.smtp().getSmtp().getPort() + "   (alert emails are counted below)");
    }
    System.out.println("Ctrl-C stops everything.");
    System.out.println();
    long lastAccepted = Math.max(0, system.acceptedEvents());
    long lastTime = System.nanoTime();
    while (!stopped.await(5, TimeUnit.SECONDS)) {
      long accepted = system.acceptedEvents();
      long now = System.nanoTime();
      double rate = accepted < 0 ? 0 : (accepted - lastAccepted) / ((now - lastTime) / 1e9);
      System.out.printf("events/s %6.1f | events %7d | keys %3d | suspended %2d | alert emails %3d | gateway %s%n",
          rate, Math.max(accepted, 0), system.keyGuard().keyCount(), system.keyGuard().suspendedCount(),
          system.smtp() == null ? 0 : system.smtp().getReceivedMessages().length, system.trafficAnswers());
      if (accepted >= 0) {
        lastAccepted = accepted;
        lastTime = now;
      }
    }
  }
}
