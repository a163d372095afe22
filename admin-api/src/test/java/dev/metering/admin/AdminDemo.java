package dev.metering.admin;

import dev.metering.config.Env;
import dev.metering.kafka.EmbeddedKafka;
import dev.metering.stream.MeteringApp;
import dev.metering.stream.MeteringConfig;
import dev.metering.stream.pricing.PriceBook;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;

/**
 * Try the admin API by hand: an in-JVM broker, metering-stream on 8081 and admin-api on 8080
 * for organisation org-default; the bootstrap admin key is printed (or taken from
 * METERING_BOOTSTRAP_ADMIN_KEY). Ctrl-C stops it. Prints the broker address so usage events
 * can be produced to it.
 */
public final class AdminDemo {

  private AdminDemo() {
  }

  public static void main(String[] args) throws Exception {
    EmbeddedKafka kafka = EmbeddedKafka.start();
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
    env.putIfAbsent("METERING_STATE_DIR", Files.createTempDirectory("admin-demo").toString());
    MeteringConfig meteringConfig = MeteringConfig.from(new Env(env));
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      meteringConfig.kafka().topicSetup().apply(admin);
    }
    MeteringApp metering = MeteringApp.start(meteringConfig, PriceBook.bundled());
    metering.awaitRunning(Duration.ofSeconds(60));
    env.put("METERING_QUERY_URL", "http://localhost:" + metering.httpPort());
    AdminApi api = AdminApi.start(AdminConfig.from(new Env(env)), Clock.systemUTC());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      api.close();
      metering.close();
      kafka.close();
    }));
    System.out.printf("admin-api on http://localhost:%d, metering-stream on http://localhost:%d, Kafka at %s%n",
        api.port(), metering.httpPort(), kafka.bootstrapServers());
    metering.awaitStopped();
  }
}
