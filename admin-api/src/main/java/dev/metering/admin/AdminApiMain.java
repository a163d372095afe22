package dev.metering.admin;

import dev.metering.config.Env;
import dev.metering.config.InvalidConfigException;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs admin-api against {@code KAFKA_BOOTSTRAP_SERVERS} until SIGTERM. */
public final class AdminApiMain {

  private static final Logger log = LoggerFactory.getLogger(AdminApiMain.class);

  private AdminApiMain() {
  }

  public static void main(String[] args) throws InterruptedException {
    AdminConfig config;
    try {
      config = AdminConfig.from(Env.system());
    } catch (InvalidConfigException e) {
      System.err.println("admin-api: " + e.getMessage());
      System.exit(2);
      return;
    }
    log.info("admin-api starting with {}", config);
    config.kafka().ensureTopics();
    AdminApi api = AdminApi.start(config, Clock.systemUTC());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      api.close();
      stopped.countDown();
    }, "admin-api-shutdown"));
    stopped.await();
  }
}
