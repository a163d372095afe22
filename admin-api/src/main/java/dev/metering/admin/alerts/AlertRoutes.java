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
import dev.metering.schemas.UsageLimits;
import dev.metering.webhooks.WebhookSigning;
import dev.metering.webhooks.WebhookTargets;
import io.javalin.http.Context;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Alert rules: a threshold on one key's monthly usage, told by email and/or webhook. */
public final class AlertRoutes {

  private static final String BASE = "/v1/organizations/alerts";

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
        Route.post(BASE, "Create an alert rule on one API key's monthly usage",
            List.of("name", "key_id", "threshold_percent", "notification_email", "webhook_url"), 201, this::create),
        Route.get(BASE, "List the organisation's alert rules", List.of(), (ctx, p) ->
            Map.of("data", rules.ofOrg(p.orgId()).stream().map(AlertRoutes::view).toList())),
        Route.delete(BASE + "/{alert_id}", "Delete an alert rule", this::delete),
        Route.post(BASE + "/{alert_id}/rotate_secret", "Give an alert rule's webhook a new signing secret, shown this"
            + " once; the old one stops signing", List.of(), 200, this::rotateSecret));
  }

  private Object create(Context ctx, Principal principal) {
    Body body = Body.parse(json, ctx.body(), Set.of("name", "key_id", "threshold_percent", "notification_email",
        "webhook_url"));
    String name = body.string("name", true, 256);
    String keyId = body.string("key_id", true, 128);
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
    var key = keys.get(keyId).filter(k -> k.getOrgId().equals(principal.orgId()))
        .orElseThrow(() -> ApiError.invalid("key_id", "no API key " + keyId + " in this organisation"));
    if (key.getStatus() == ApiKeyStatus.REVOKED) {
      throw ApiError.conflict("API key " + keyId + " is revoked");
    }
    long existing = rules.ofOrg(principal.orgId()).stream().filter(r -> r.getApiKeyId().equals(keyId)).count();
    if (existing >= UsageLimits.MAX_ALERT_RULES_PER_KEY) {
      throw ApiError.conflict("API key " + keyId + " already has " + existing + " alert rules, the most one key may have;"
          + " delete one first");
    }
    AlertRule rule = AlertRule.newBuilder()
        .setId(Ids.random(Ids.ALERT_RULE))
        .setOrgId(principal.orgId()).setName(name).setApiKeyId(keyId).setThresholdPercent(threshold)
        .setNotificationEmail(email).setWebhookUrl(webhook)
        .setCreatedBy(principal.actor()).setCreatedAt(clock.millis())
        .setWebhookSecretVersion(1)
        .build();
    rules.put(rule, List.of(audits.of(principal, AuditEventType.ALERT_CREATED, keyId, principal.actor() + " created alert rule "
        + name + " at " + threshold + "% of " + key.getName(), Map.of("alert_id", rule.getId(),
            "threshold_percent", Integer.toString(threshold), "email", String.valueOf(email),
            "webhook", webhook == null ? "none" : "set"))), null);
    return withSecret(rule);
  }

  private Object delete(Context ctx, Principal principal) {
    String id = ctx.pathParam("alert_id");
    AlertRule rule = rules.get(id).filter(r -> r.getOrgId().equals(principal.orgId()))
        .orElseThrow(() -> ApiError.notFound("no alert rule " + id));
    rules.delete(rule, List.of(audits.of(principal, AuditEventType.ALERT_DELETED, rule.getApiKeyId(), principal.actor()
        + " deleted alert rule " + rule.getName(), Map.of("alert_id", id))));
    return Map.of("id", id, "type", AuditEventType.ALERT_DELETED);
  }

  private Object rotateSecret(Context ctx, Principal principal) {
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

  /** The rule as JSON with its webhook signing secret: only in the answers that make a new one. */
  private Map<String, Object> withSecret(AlertRule rule) {
    Map<String, Object> out = view(rule);
    if (rule.getWebhookUrl() != null) {
      out.put("webhook_secret", signing.secretFor(rule.getId(), rule.getWebhookSecretVersion()));
    }
    return out;
  }

  /** The rule as JSON; a webhook URL is shown as set or not, since it often holds a secret. */
  static Map<String, Object> view(AlertRule rule) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("id", rule.getId());
    out.put("type", "alert");
    out.put("name", rule.getName());
    out.put("key_id", rule.getApiKeyId());
    out.put("threshold_percent", rule.getThresholdPercent());
    out.put("notification_email", rule.getNotificationEmail());
    out.put("webhook_url", rule.getWebhookUrl() == null ? null : redact(rule.getWebhookUrl()));
    out.put("created_by", rule.getCreatedBy());
    out.put("created_at", Instant.ofEpochMilli(rule.getCreatedAt()).toString());
    return out;
  }

  private static String redact(String url) {
    java.net.URI uri = java.net.URI.create(url);
    return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "") + "/...";
  }
}
