package dev.metering.stream;

import dev.metering.config.Env;
import dev.metering.config.InvalidConfigException;

/** Entry point of metering-stream. For now it validates and prints its configuration, then exits. */
public final class MeteringStreamMain {

  private MeteringStreamMain() {
  }

  public static void main(String[] args) {
    try {
      MeteringConfig config = MeteringConfig.from(Env.system());
      System.out.println("metering-stream configuration: " + config);
    } catch (InvalidConfigException e) {
      System.err.println("metering-stream: " + e.getMessage());
      System.exit(2);
    }
  }
}
