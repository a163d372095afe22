package dev.metering.stream;

import dev.metering.config.Env;
import dev.metering.config.InvalidConfigException;
import dev.metering.stream.pricing.PriceBook;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs metering-stream against {@code KAFKA_BOOTSTRAP_SERVERS} until SIGTERM. */
public final class MeteringStreamMain {

  private static final Logger log = LoggerFactory.getLogger(MeteringStreamMain.class);

  private MeteringStreamMain() {
  }

  public static void main(String[] args) throws InterruptedException {
    MeteringConfig config;
    PriceBook prices;
    try {
      config = MeteringConfig.from(Env.system());
      prices = config.pricingFile().map(PriceBook::load).orElseGet(PriceBook::bundled);
    } catch (InvalidConfigException | IllegalArgumentException e) {
      System.err.println("metering-stream: " + e.getMessage());
      System.exit(2);
      return;
    }
    log.info("metering-stream starting with {}", config);
    config.kafka().ensureTopics();
    MeteringApp app = MeteringApp.start(config, prices);
    Thread shutdown = new Thread(app::close, "metering-stream-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdown);
    boolean failed = app.awaitStopped();
    if (failed) {
      Runtime.getRuntime().removeShutdownHook(shutdown);
      app.close();
      System.exit(1);
    }
  }
}
