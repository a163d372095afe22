package dev.metering.alerts;

import dev.metering.config.Env;
import dev.metering.config.KafkaSettings;
import java.util.Objects;

/** alert-service settings, read once from the environment at start-up. */
public record AlertServiceConfig(KafkaSettings kafka, String applicationId) {

  public AlertServiceConfig {
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(applicationId, "applicationId");
  }

  public static AlertServiceConfig from(Env env) {
    return new AlertServiceConfig(
        KafkaSettings.from(env),
        env.string("ALERT_SERVICE_APPLICATION_ID", "alert-service"));
  }
}
