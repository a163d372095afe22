package dev.metering.stream;

import dev.metering.config.Env;
import dev.metering.kafka.EmbeddedKafka;
import dev.metering.stream.pricing.PriceBook;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;

/**
 * Try the query API by hand: an in-JVM broker, a sample workload (2 orgs, 6 keys, 5000 calls
 * over the last day) and one metering-stream instance on METERING_HTTP_PORT (8081). Ctrl-C stops it.
 */
public final class QueryDemo {

  private QueryDemo() {
  }

  public static void main(String[] args) throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.start();
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
    env.put("METERING_TOPIC_PARTITIONS", "3");
    env.putIfAbsent("METERING_STATE_DIR", Files.createTempDirectory("metering-demo").toString());
    env.putIfAbsent("METERING_QUERY_TOKEN", "demo-query-token-0123456789");
    MeteringConfig config = MeteringConfig.from(new Env(env));
    try (Admin admin = Admin.create(TestCluster.adminConfig(kafka.bootstrapServers()))) {
      config.kafka().topicSetup().apply(admin);
    }
    long now = System.currentTimeMillis();
    Workload workload = new Workload(1, 6, 5000, now - Duration.ofHours(24).toMillis(), now);
    TestCluster.produce(kafka.bootstrapServers(), workload);
    MeteringApp app = MeteringApp.start(config, PriceBook.bundled());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      app.close();
      kafka.close();
    }));
    app.awaitRunning(Duration.ofSeconds(60));
    System.out.printf("%nmetering-stream query API on http://localhost:%d (keys key-0..key-5, orgs org-0 and org-1;"
        + " Authorization: Bearer %s)%n", app.httpPort(), env.get("METERING_QUERY_TOKEN"));
    app.awaitStopped();
  }
}
