package dev.metering.admin;

import dev.metering.config.Env;
import dev.metering.config.KafkaSettings;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * admin-api settings, read once from the environment at start-up. The bootstrap admin key never
 * appears in {@link #toString()}.
 *
 * @param httpBind {@code ADMIN_HTTP_BIND}
 * @param httpPort {@code ADMIN_HTTP_PORT}; 0 picks a free port
 * @param meteringUrl {@code METERING_QUERY_URL}: any metering-stream instance's query API
 * @param instanceId {@code ADMIN_INSTANCE_ID}: stable per instance, its transactional id
 * @param bootstrapOrgId {@code ADMIN_BOOTSTRAP_ORG_ID}: the organisation of the bootstrap admin key
 * @param bootstrapAdminEmail {@code ADMIN_BOOTSTRAP_ADMIN_EMAIL}: the bootstrap admin, the actor of its changes
 * @param bootstrapAdminKey {@code METERING_BOOTSTRAP_ADMIN_KEY}: the bootstrap admin key; generated and printed once if unset
 * @param gatewayTokens {@code GATEWAY_TOKENS}: comma-separated tokens gateways use on POST /v1/usage/events; none disables it
 */
public record AdminConfig(KafkaSettings kafka, String httpBind, int httpPort, String meteringUrl, String instanceId,
    String bootstrapOrgId, String bootstrapAdminEmail, Optional<String> bootstrapAdminKey, List<String> gatewayTokens) {

  public AdminConfig {
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(httpBind, "httpBind");
    Objects.requireNonNull(meteringUrl, "meteringUrl");
    Objects.requireNonNull(instanceId, "instanceId");
    Objects.requireNonNull(bootstrapOrgId, "bootstrapOrgId");
    Objects.requireNonNull(bootstrapAdminEmail, "bootstrapAdminEmail");
    Objects.requireNonNull(bootstrapAdminKey, "bootstrapAdminKey");
    gatewayTokens = List.copyOf(gatewayTokens);
  }

  public static AdminConfig from(Env env) {
    return new AdminConfig(
        KafkaSettings.from(env),
        env.string("ADMIN_HTTP_BIND", "0.0.0.0"),
        env.intInRange("ADMIN_HTTP_PORT", 8080, 0, 65_535),
        env.string("METERING_QUERY_URL", "http://localhost:8081"),
        env.string("ADMIN_INSTANCE_ID", "admin-api-0"),
        env.string("ADMIN_BOOTSTRAP_ORG_ID", "org-default"),
        env.string("ADMIN_BOOTSTRAP_ADMIN_EMAIL", "admin@localhost"),
        Optional.ofNullable(env.string("METERING_BOOTSTRAP_ADMIN_KEY", null)),
        Arrays.stream(env.string("GATEWAY_TOKENS", "").split(",")).map(String::strip).filter(t -> !t.isEmpty()).toList());
  }

  @Override
  public String toString() {
    return "AdminConfig[kafka=" + kafka + ", httpBind=" + httpBind + ", httpPort=" + httpPort + ", meteringUrl="
        + meteringUrl + ", instanceId=" + instanceId + ", bootstrapOrgId=" + bootstrapOrgId
        + ", bootstrapAdminEmail=" + bootstrapAdminEmail + ", bootstrapAdminKey="
        + (bootstrapAdminKey.isPresent() ? "***" : "(generated)") + ", gatewayTokens=" + gatewayTokens.size() + " set]";
  }
}
