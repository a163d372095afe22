package dev.metering.admin;

import dev.metering.config.Env;
import dev.metering.config.KafkaSettings;
import dev.metering.admin.ingest.GatewayToken;
import dev.metering.keys.ServiceToken;
import dev.metering.schemas.UsageLimits;
import dev.metering.webhooks.WebhookSigning;
import dev.metering.webhooks.WebhookTargets;
import java.time.Duration;
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
 * @param meteringToken {@code METERING_QUERY_TOKEN}: the service token of that API (required)
 * @param instanceId {@code ADMIN_INSTANCE_ID}: stable per instance, its transactional id
 * @param bootstrapOrgId {@code ADMIN_BOOTSTRAP_ORG_ID}: the organisation of the bootstrap admin key
 * @param bootstrapAdminEmail {@code ADMIN_BOOTSTRAP_ADMIN_EMAIL}: the bootstrap admin, the actor of its changes
 * @param bootstrapAdminKey {@code METERING_BOOTSTRAP_ADMIN_KEY}: the bootstrap admin key; generated and printed once if unset
 * @param gatewayTokens {@code GATEWAY_TOKENS}: {@code <gateway_id>:<org>[|<org>...]:<token>} entries, comma-separated,
 *     the gateways that may use POST /v1/usage/events and the organisations each reports for; none disables it
 * @param ingestAckTimeout {@code ADMIN_INGEST_ACK_TIMEOUT}: how long POST /v1/usage/events waits for the brokers to
 *     acknowledge a batch before answering 503
 * @param lateGrace {@code METERING_LATE_GRACE}: events older than this are refused at the door (as metering-stream would)
 * @param futureTolerance {@code METERING_FUTURE_TOLERANCE}: events further ahead of the clock are refused at the door
 * @param webhookSigning {@code METERING_WEBHOOK_SIGNING_KEY}: derives each alert rule's webhook secret (shared with
 *     alert-service, required)
 * @param webhookTargets {@code METERING_WEBHOOK_ALLOW_HTTP}, {@code METERING_WEBHOOK_ALLOWED_NETWORKS}: where webhooks may go
 * @param maxKeysPerOrg {@code ADMIN_MAX_KEYS_PER_ORG}: API keys (revoked ones included) one organisation may have
 * @param changesPerOrgPerMinute {@code ADMIN_MAX_CHANGES_PER_ORG_PER_MINUTE}: changes (admin requests other than reads)
 *     one organisation may make on one instance, in bursts of up to as many; more answer 429
 */
public record AdminConfig(KafkaSettings kafka, String httpBind, int httpPort, String meteringUrl,
    ServiceToken meteringToken, String instanceId,
    String bootstrapOrgId, String bootstrapAdminEmail, Optional<String> bootstrapAdminKey,
    List<GatewayToken> gatewayTokens, Duration ingestAckTimeout, Duration lateGrace, Duration futureTolerance,
    WebhookSigning webhookSigning, WebhookTargets webhookTargets, int maxKeysPerOrg, int changesPerOrgPerMinute) {

  public AdminConfig {
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(httpBind, "httpBind");
    Objects.requireNonNull(meteringUrl, "meteringUrl");
    Objects.requireNonNull(meteringToken, "meteringToken");
    Objects.requireNonNull(instanceId, "instanceId");
    Objects.requireNonNull(bootstrapOrgId, "bootstrapOrgId");
    Objects.requireNonNull(bootstrapAdminEmail, "bootstrapAdminEmail");
    Objects.requireNonNull(bootstrapAdminKey, "bootstrapAdminKey");
    gatewayTokens = List.copyOf(gatewayTokens);
    Objects.requireNonNull(ingestAckTimeout, "ingestAckTimeout");
    Objects.requireNonNull(lateGrace, "lateGrace");
    Objects.requireNonNull(futureTolerance, "futureTolerance");
    Objects.requireNonNull(webhookSigning, "webhookSigning");
    Objects.requireNonNull(webhookTargets, "webhookTargets");
  }

  public static AdminConfig from(Env env) {
    return new AdminConfig(
        KafkaSettings.from(env),
        env.string("ADMIN_HTTP_BIND", "0.0.0.0"),
        env.intInRange("ADMIN_HTTP_PORT", 8080, 0, 65_535),
        env.string("METERING_QUERY_URL", "http://localhost:8081"),
        ServiceToken.from(env, "METERING_QUERY_TOKEN", false),
        env.string("ADMIN_INSTANCE_ID", "admin-api-0"),
        env.string("ADMIN_BOOTSTRAP_ORG_ID", "org-default"),
        env.string("ADMIN_BOOTSTRAP_ADMIN_EMAIL", "admin@localhost"),
        Optional.ofNullable(env.string("METERING_BOOTSTRAP_ADMIN_KEY", null)),
        GatewayToken.parse("GATEWAY_TOKENS", env.string("GATEWAY_TOKENS", "")),
        env.duration("ADMIN_INGEST_ACK_TIMEOUT", Duration.ofSeconds(10), Duration.ofMillis(100)),
        env.duration("METERING_LATE_GRACE", UsageLimits.DEFAULT_LATE_GRACE, Duration.ZERO),
        env.duration("METERING_FUTURE_TOLERANCE", UsageLimits.DEFAULT_FUTURE_TOLERANCE, Duration.ZERO),
        WebhookSigning.from(env),
        WebhookTargets.from(env),
        env.intInRange("ADMIN_MAX_KEYS_PER_ORG", 10_000, 1, 1_000_000),
        env.intInRange("ADMIN_MAX_CHANGES_PER_ORG_PER_MINUTE", 600, 1, 1_000_000));
  }

  @Override
  public String toString() {
    return "AdminConfig[kafka=" + kafka + ", httpBind=" + httpBind + ", httpPort=" + httpPort + ", meteringUrl="
        + meteringUrl + ", meteringToken=" + meteringToken + ", instanceId=" + instanceId + ", bootstrapOrgId=" + bootstrapOrgId
        + ", bootstrapAdminEmail=" + bootstrapAdminEmail + ", bootstrapAdminKey="
        + (bootstrapAdminKey.isPresent() ? "***" : "(generated)") + ", gatewayTokens="
        + gatewayTokens.stream().map(t -> t.gatewayId() + "->" + t.orgIds()).toList() + ", ingestAckTimeout="
        + ingestAckTimeout + ", lateGrace=" + lateGrace + ", futureTolerance=" + futureTolerance + "]";
  }
}
