package dev.metering.alerts;

import dev.metering.config.Env;
import dev.metering.config.InvalidConfigException;

/** Entry point of alert-service. For now it validates and prints its configuration, then exits. */
public final class AlertServiceMain {

  private AlertServiceMain() {
  }

  public static void main(String[] args) {
    try {
      AlertServiceConfig config = AlertServiceConfig.from(Env.system());
      System.out.println("alert-service configuration: " + config);
    } catch (InvalidConfigException e) {
      System.err.println("alert-service: " + e.getMessage());
      System.exit(2);
    }
  }
}
