package dev.metering.admin.alerts;

import dev.metering.keys.Ids;
import dev.metering.schemas.AuditEventType;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.admin.Audits;
import dev.metering.admin.auth.Principal;
import dev.metering.admin.http.ApiError;
import dev.metering.admin.http.Body;
import dev.metering.admin.http.Route;
import dev.metering.admin.keys.KeyStore;
import dev.metering.records.AlertRule;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.AuditRecord;
import dev.metering.schemas.UsageLimits;
import dev.metering.webhooks.WebhookSigning;
import dev.metering.webhooks.WebhookTargets;
import dev.metering.api.admin.AlertInfo;
import dev.metering.api.admin.AlertList;
import dev.metering.api.admin.CreateAlert;
import dev.metering.api.admin.DeletedAlert;
import io.javalin.http.Context;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Alert rules: a threshold on one key's monthly limits, or (without a key) on the organisation's
 * budget, told by email and/or webhook.
 */
public final class AlertRoutes {

  private static final String BASE = "/v1/organizations/alerts";
  private static final String TAG = "alerts";

  private final RuleStore rules;
  private final KeyStore keys;
  private final Audits audits;
  private final ObjectMapper json;
  private final Clock clock;

  private final WebhookSigning signing;
  private final WebhookTargets targets;

  public AlertRoutes(RuleStore rules, KeyStore keys, Audits audits, ObjectMapper json, Clock clock,
      WebhookSigning signing, WebhookTargets targets) {
    this.signing = signing;
    this.targets = targets;
    this.rules = rules;
    this.keys = keys;
    this.audits = audits;
    this.json = json;
    this.clock = clock;
  }

  public List<Route> routes() {
    return List.of(
        Route.post(TAG, BASE, "createAlert", "Create an alert rule on one API key's monthly limits, or without"
            + " key_id on the organisation's budget; the response holds"
            + " its webhook signing secret, shown this once", CreateAlert.class, 201, AlertInfo.class, this::create),
        Route.get(TAG, BASE, "listAlerts", "List the organisation's alert rules", List.of(), AlertList.class,
            (ctx, p) -> new AlertList(rules.ofOrg(p.orgId()).stream().map(AlertRoutes::view).toList())),
        Route.delete(TAG, BASE + "/{alert_id}", "deleteAlert", "Delete an alert rule", DeletedAlert.class,
            this::delete),
        Route.post(TAG, BASE + "/{alert_id}/rotate_secret", "rotateAlertSecret", "Give an alert rule's webhook a new"
            + " signing secret, shown this once; the old one stops signing", null, 200, AlertInfo.class,
            this::rotateSecret));
  }

  private AlertInfo create(Context ctx, Principal principal) {
    Body body = Body.parse(json, ctx.body(), CreateAlert.class);
    String name = body.string("name", true, 256);
    // no key: a rule on the organisation's budget
    String keyId = body.string("key_id", false, 128);
    int threshold = body.intInRange("threshold_percent", 1, 100);
    String email = body.email("notification_email", false);
    String webhook = body.url("webhook_url");
    if (webhook != null) {
      targets.problem(webhook, false).ifPresent(problem -> {
        throw ApiError.invalid("webhook_url", "webhook_url is refused: " + problem);
      });
    }
    if (email == null && webhook == null) {
      throw ApiError.invalid("notification_email", "give notification_email, webhook_url or both");
    }
    String watched = "the organisation's budget";
    if (keyId != null) {
      var key = keys.owned(principal.orgId(), keyId)
          .orElseThrow(() -> ApiError.invalid("key_id", "no API key " + keyId + " in this organisation"));
      if (key.getStatus() == ApiKeyStatus.REVOKED) {
        throw ApiError.conflict("API key " + keyId + " is revoked");
      }
      watched = key.getName();
    }
    AlertRule rule = AlertRule.newBuilder()
        .setId(Ids.random(Ids.ALERT_RULE))
        .setOrgId(principal.orgId()).setName(name).setApiKeyId(keyId).setThresholdPercent(threshold)
        .setNotificationEmail(email).setWebhookUrl(webhook)
        .setCreatedBy(principal.actor()).setCreatedAt(clock.millis())
        .setWebhookSecretVersion(1)
        .build();
    AuditRecord audit = audits.of(principal, AuditEventType.ALERT_CREATED, keyId, principal.actor()
        + " created alert rule " + name + " at " + threshold + "% of " + watched, Map.of("alert_id", rule.getId(),
            "threshold_percent", Integer.toString(threshold), "email", String.valueOf(email),
            "webhook", webhook == null ? "none" : "set"));
    // the count is checked after every creation before this one, on any instance, so concurrent
    // requests cannot pass the cap
    rules.putNew(principal.orgId(), rule, List.of(audit), () -> {
      long existing = rules.ofOrg(principal.orgId()).stream().filter(r -> Objects.equals(r.getApiKeyId(), keyId))
          .count();
      if (existing >= UsageLimits.MAX_ALERT_RULES_PER_KEY) {
        throw ApiError.conflict((keyId == null ? "The organisation's budget" : "API key " + keyId) + " already has "
            + existing + " alert rules, the most one key or budget may have; delete one first");
      }
    });
    return withSecret(rule);
  }

  private DeletedAlert delete(Context ctx, Principal principal) {
    String id = ctx.pathParam("alert_id");
    AlertRule rule = rules.get(id).filter(r -> r.getOrgId().equals(principal.orgId()))
        .orElseThrow(() -> ApiError.notFound("no alert rule " + id));
    rules.delete(rule, List.of(audits.of(principal, AuditEventType.ALERT_DELETED, rule.getApiKeyId(), principal.actor()
        + " deleted alert rule " + rule.getName(), Map.of("alert_id", id))));
    return new DeletedAlert(id, AuditEventType.ALERT_DELETED.wireName());
  }

  private AlertInfo rotateSecret(Context ctx, Principal principal) {
    String id = ctx.pathParam("alert_id");
    AlertRule current = rules.get(id).filter(r -> r.getOrgId().equals(principal.orgId()))
        .orElseThrow(() -> ApiError.notFound("no alert rule " + id));
    if (current.getWebhookUrl() == null) {
      throw ApiError.conflict("alert rule " + id + " has no webhook, so no signing secret");
    }
    AlertRule rotated = AlertRule.newBuilder(current).setWebhookSecretVersion(current.getWebhookSecretVersion() + 1)
        .build();
    rules.put(rotated, List.of(audits.of(principal, AuditEventType.ALERT_SECRET_ROTATED, current.getApiKeyId(), principal.actor()
        + " rotated the webhook signing secret of alert rule " + current.getName(), Map.of("alert_id", id,
            "secret_version", Integer.toString(rotated.getWebhookSecretVersion())))), current);
    return withSecret(rotated);
  }

  /** The rule with its webhook signing secret: only in the answers that make a new one. */
  private AlertInfo withSecret(AlertRule rule) {
    return view(rule, rule.getWebhookUrl() == null ? null
        : signing.secretFor(rule.getId(), rule.getWebhookSecretVersion()));
  }

  static AlertInfo view(AlertRule rule) {
    return view(rule, null);
  }

  /** The rule as the API shows it; a webhook URL is shown as set or not, since it often holds a secret. */
  private static AlertInfo view(AlertRule rule, String webhookSecret) {
    return new AlertInfo(rule.getId(), AlertInfo.TYPE, rule.getName(), rule.getApiKeyId(), rule.getThresholdPercent(),
        rule.getNotificationEmail(), rule.getWebhookUrl() == null ? null : redact(rule.getWebhookUrl()), webhookSecret,
        rule.getCreatedBy(), Instant.ofEpochMilli(rule.getCreatedAt()));
  }

  private static String redact(String url) {
    java.net.URI uri = java.net.URI.create(url);
    return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "") + "/...";
  }
}
