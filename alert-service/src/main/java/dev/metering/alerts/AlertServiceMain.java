package dev.metering.alerts;

import dev.metering.config.Env;
import dev.metering.config.InvalidConfigException;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs alert-service against {@code KAFKA_BOOTSTRAP_SERVERS} until SIGTERM. */
public final class AlertServiceMain {

  private static final Logger log = LoggerFactory.getLogger(AlertServiceMain.class);

  private AlertServiceMain() {
  }

  public static void main(String[] args) throws InterruptedException {
    AlertServiceConfig config;
    try {
      config = AlertServiceConfig.from(Env.system());
    } catch (InvalidConfigException e) {
      System.err.println("alert-service: " + e.getMessage());
      System.exit(2);
      return;
    }
    log.info("alert-service starting with {}", config);
    config.kafka().ensureTopics();
    AlertService service = AlertService.start(config, Clock.systemUTC());
    Thread shutdown = new Thread(service::close, "alert-service-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdown);
    Throwable failure = service.awaitStopped();
    if (failure != null) {
      log.error("alert-service stopped: {}", failure.getMessage());
      System.exit(1);
    }
  }
}
