package dev.metering.alerts;

import dev.metering.config.Env;
import dev.metering.config.InvalidConfigException;
import dev.metering.config.KafkaSettings;
import dev.metering.schemas.UsageLimits;
import dev.metering.webhooks.WebhookSigning;
import dev.metering.webhooks.WebhookTargets;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * alert-service settings, read once from the environment and validated at start-up. Secrets
 * (SMTP password, webhook signing key) never appear in {@link #toString()}.
 *
 * @param kafka cluster and topic layout
 * @param groupId {@code ALERT_SERVICE_GROUP_ID}: consumer group of the event processor; the dispatcher uses {@code <group>-dispatcher}
 * @param instanceId {@code ALERT_SERVICE_INSTANCE_ID}: stable per instance; its transactional id, so a restarted instance fences its predecessor
 * @param smtp SMTP server settings
 * @param webhookSigning {@code METERING_WEBHOOK_SIGNING_KEY}: the key each alert rule's webhook secret is derived
 *     from (shared with admin-api, required)
 * @param webhookTargets {@code METERING_WEBHOOK_ALLOW_HTTP}, {@code METERING_WEBHOOK_ALLOWED_NETWORKS}: where webhooks may go
 * @param httpBind {@code ALERT_HTTP_BIND}: address of /health/live, /health/ready and /metrics
 * @param httpPort {@code ALERT_HTTP_PORT}: their port; 0 picks a free one
 * @param maxInFlightPerOrg {@code ALERT_MAX_IN_FLIGHT_PER_ORG}: deliveries one organisation may have under way (per
 *     target a quarter of it), so one org's hanging webhooks cannot hold back anyone else's alerts
 * @param maxAttempts {@code ALERT_DELIVERY_MAX_ATTEMPTS}: attempts per notification before it is given up
 * @param initialBackoff {@code ALERT_DELIVERY_INITIAL_BACKOFF}: wait before the second attempt; doubles each time
 * @param maxBackoff {@code ALERT_DELIVERY_MAX_BACKOFF}: the longest wait between attempts
 * @param webhookTimeout {@code ALERT_WEBHOOK_TIMEOUT}: per webhook attempt
 * @param lapseCheckInterval {@code ALERT_LAPSE_CHECK_INTERVAL}: how often month-end reinstatements are looked for
 * @param closedPeriodNotice {@code ALERT_CLOSED_PERIOD_NOTICE}: how long after its month (a spike: its day) has
 *     ended an alert is still sent; a later one (a backfill of past months, events read days late) goes to the
 *     audit log only. Defaults to metering's default lateness grace, the longest a live event can be late.
 */
public record AlertServiceConfig(
    KafkaSettings kafka,
    String groupId,
    String instanceId,
    Smtp smtp,
    WebhookSigning webhookSigning,
    WebhookTargets webhookTargets,
    String httpBind,
    int httpPort,
    int maxInFlightPerOrg,
    int maxAttempts,
    Duration initialBackoff,
    Duration maxBackoff,
    Duration webhookTimeout,
    Duration lapseCheckInterval,
    Duration closedPeriodNotice) {

  /** Ten years: alerts of any period a deployment has seen are sent, and the sum with an instant cannot overflow. */
  public static final Duration MAX_CLOSED_PERIOD_NOTICE = Duration.ofDays(3_650);

  /**
   * @param host {@code SMTP_HOST}
   * @param port {@code SMTP_PORT}
   * @param security {@code SMTP_SECURITY}: none, starttls or ssl
   * @param username {@code SMTP_USERNAME}, optional
   * @param password {@code SMTP_PASSWORD}, optional, never logged
   * @param from {@code ALERT_EMAIL_FROM}
   */
  public record Smtp(String host, int port, String security, Optional<String> username, Optional<String> password,
      String from) {
    public Smtp {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(security, "security");
      Objects.requireNonNull(username, "username");
      Objects.requireNonNull(password, "password");
      Objects.requireNonNull(from, "from");
    }

    @Override
    public String toString() {
      return "Smtp[host=" + host + ", port=" + port + ", security=" + security + ", username="
          + username.orElse("-") + ", password=" + (password.isPresent() ? "***" : "-") + ", from=" + from + "]";
    }
  }

  public AlertServiceConfig {
    Objects.requireNonNull(kafka, "kafka");
    Objects.requireNonNull(groupId, "groupId");
    Objects.requireNonNull(instanceId, "instanceId");
    Objects.requireNonNull(smtp, "smtp");
    Objects.requireNonNull(webhookSigning, "webhookSigning");
    Objects.requireNonNull(webhookTargets, "webhookTargets");
    Objects.requireNonNull(httpBind, "httpBind");
    Objects.requireNonNull(closedPeriodNotice, "closedPeriodNotice");
  }

  public static AlertServiceConfig from(Env env) {
    String security = env.string("SMTP_SECURITY", "none");
    if (!security.equals("none") && !security.equals("starttls") && !security.equals("ssl")) {
      throw new InvalidConfigException("SMTP_SECURITY", security, "none, starttls or ssl");
    }
    Duration initial = env.duration("ALERT_DELIVERY_INITIAL_BACKOFF", Duration.ofSeconds(1), Duration.ofMillis(1));
    return new AlertServiceConfig(
        KafkaSettings.from(env),
        env.string("ALERT_SERVICE_GROUP_ID", "alert-service"),
        env.string("ALERT_SERVICE_INSTANCE_ID", "alert-service-0"),
        new Smtp(
            env.string("SMTP_HOST", "localhost"),
            env.intInRange("SMTP_PORT", 2525, 1, 65_535),
            security,
            Optional.ofNullable(env.string("SMTP_USERNAME", null)),
            Optional.ofNullable(env.string("SMTP_PASSWORD", null)),
            env.string("ALERT_EMAIL_FROM", "metering@localhost")),
        WebhookSigning.from(env),
        WebhookTargets.from(env),
        env.string("ALERT_HTTP_BIND", "0.0.0.0"),
        env.intInRange("ALERT_HTTP_PORT", 8082, 0, 65_535),
        env.intInRange("ALERT_MAX_IN_FLIGHT_PER_ORG", 100, 4, 100_000),
        env.intInRange("ALERT_DELIVERY_MAX_ATTEMPTS", 8, 1, 100),
        initial,
        env.duration("ALERT_DELIVERY_MAX_BACKOFF", Duration.ofMinutes(5), initial),
        env.duration("ALERT_WEBHOOK_TIMEOUT", Duration.ofSeconds(10), Duration.ofMillis(100)),
        env.duration("ALERT_LAPSE_CHECK_INTERVAL", Duration.ofSeconds(10), Duration.ofMillis(10)),
        env.durationInRange("ALERT_CLOSED_PERIOD_NOTICE", UsageLimits.DEFAULT_LATE_GRACE, Duration.ZERO,
            MAX_CLOSED_PERIOD_NOTICE));
  }

  @Override
  public String toString() {
    return "AlertServiceConfig[kafka=" + kafka + ", groupId=" + groupId + ", instanceId=" + instanceId
        + ", smtp=" + smtp + ", webhookSigning=***, httpBind=" + httpBind + ", httpPort=" + httpPort
        + ", maxInFlightPerOrg=" + maxInFlightPerOrg + ", maxAttempts=" + maxAttempts + ", initialBackoff="
        + initialBackoff + ", maxBackoff=" + maxBackoff + ", webhookTimeout=" + webhookTimeout
        + ", lapseCheckInterval=" + lapseCheckInterval + ", closedPeriodNotice=" + closedPeriodNotice + "]";
  }
}
