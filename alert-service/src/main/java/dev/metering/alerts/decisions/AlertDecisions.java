package dev.metering.alerts.decisions;

import dev.metering.schemas.AuditEventType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metering.records.AlertRule;
import dev.metering.records.AuditRecord;
import dev.metering.records.KeyState;
import dev.metering.records.KeyStatus;
import dev.metering.api.Dollars;
import dev.metering.config.Durations;
import dev.metering.records.LimitEvent;
import dev.metering.records.LimitScope;
import dev.metering.records.LimitUnit;
import dev.metering.records.Notification;
import dev.metering.records.NotificationChannel;
import dev.metering.records.UsageSpike;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What alert-service writes for each input: pure functions of the event, the alert rules, the
 * current status of the event's key (or organisation, for an org budget) and the clock. Ids of
 * notifications and audit records derive from their cause, so processing the same event again
 * yields the same records.
 *
 * <p>An alert about a period that ended longer ago than the closed-period notice (a threshold or
 * breach of a past month, a spike of a past day: a backfill of history, or events read days late)
 * is recorded in the audit log, saying so, and sent to no one: the month is over, nothing can be
 * done about it, and a backfill of a quarter would otherwise send thousands of alerts at once.
 * Reinstatements and suspensions say what holds now and are always sent.
 */
public final class AlertDecisions {

  public static final String ACTOR = "system:alert-service";
  private static final ObjectMapper JSON = new ObjectMapper();

  private AlertDecisions() {
  }

  /**
   * @param current the status of the event's scope: the key's, or for an org budget's event the
   *     organisation's (the key-status record keyed by org_id)
   */
  public static Outputs onLimitEvent(LimitEvent event, RuleIndex rules, KeyStatus current, long now,
      Duration closedPeriodNotice) {
    Outputs out = Outputs.empty();
    Scope scope = Scope.of(event);
    String key = event.getApiKeyId();
    Late late = Late.of("month " + event.getPeriod(), nextMonthStart(event.getPeriod()), now, closedPeriodNotice);
    switch (event.getKind()) {
      case THRESHOLD_CROSSED -> {
        // a rule fires once for each of the scope's limits: the cost limit's crossing is its own cause
        String cause = "threshold_crossed:" + scope.causeId() + ":" + event.getPeriod() + ":" + event.getRuleId()
            + (cost(event) ? ":cost" : "");
        String text = cost(event)
            ? String.format(Locale.ROOT, "%s used %s of its %s monthly cost %s (%.1f%%) in %s, "
                + "crossing the %d%% alert threshold.", scope.name(), dollars(event.getUsedCostMicros()),
                dollars(event.getLimitCostMicros()), scope.limitWord(), event.getPercent(), event.getPeriod(),
                event.getThresholdPercent())
            : String.format(Locale.ROOT, "%s used %d of its %d monthly tokens (%.1f%%) in %s, "
                + "crossing the %d%% alert threshold.", scope.name(), event.getUsedTokens(), event.getLimitTokens(),
                event.getPercent(), event.getPeriod(), event.getThresholdPercent());
        out.audits().add(audit(cause, event.getOrgId(), key, AuditEventType.THRESHOLD_CROSSED, late.noted(text), now,
            late.noted(limitDetails(event))));
        List<AlertRule> rule = rules.rule(event.getRuleId()).stream().toList();
        notify(late.sink(out), cause, event.getOrgId(), key, targets(rule), "[metering] " + scope.shortName()
            + " reached " + event.getThresholdPercent() + "% of its monthly " + (cost(event) ? "cost" : "token") + " "
            + scope.limitWord(), text, AuditEventType.THRESHOLD_CROSSED, limitDetails(event), now);
      }
      case LIMIT_BREACHED -> onBreach(event, scope, rules, current, now, late, out);
      case LIMIT_CLEARED -> {
        if (suspendedFor(current, event.getPeriod())) {
          String cause = "limit_cleared:" + scope.causeId() + ":" + event.getPeriod() + ":" + event.getDetectedAt();
          String text = scope.name() + " is active again: its monthly "
              + (event.getLimitCostMicros() == null
                  ? scope.limitWord() + " was raised to " + event.getLimitTokens() + " tokens, above"
                  : scope.limitWord() + "s were raised above")
              + " its usage of " + event.getUsedTokens() + (event.getLimitCostMicros() == null ? ""
                  : " tokens and " + dollars(event.getUsedCostMicros())) + " in " + event.getPeriod() + ".";
          out.statuses().add(status(key, event.getOrgId(), KeyState.ACTIVE, text, null, now));
          out.audits().add(audit(cause, event.getOrgId(), key, scope.reinstated(), text, now, limitDetails(event)));
          notifyReinstated(out, scope, rules, event.getOrgId(), cause, text, limitDetails(event), now);
        }
      }
      default -> throw new IllegalArgumentException("unknown limit event kind " + event.getKind());
    }
    return out;
  }

  /**
   * Whose limit an event or status is about: one API key, or the whole organisation's budget, whose
   * suspension stops every key of the org but its admin keys.
   *
   * @param causeId the scope in the causes ids derive from: the key id, or "org/" and the org id
   */
  private record Scope(String name, String shortName, String causeId, boolean org) {
    static Scope of(LimitEvent event) {
      return event.getScope() == LimitScope.ORG ? org(event.getOrgId()) : key(event.getApiKeyId());
    }

    static Scope of(KeyStatus status) {
      return status.getApiKeyId() == null ? org(status.getOrgId()) : key(status.getApiKeyId());
    }

    static Scope key(String apiKeyId) {
      return new Scope("API key " + apiKeyId, apiKeyId, apiKeyId, false);
    }

    static Scope org(String orgId) {
      return new Scope("Organisation " + orgId, "organisation " + orgId, "org/" + orgId, true);
    }

    /** What its limit is called: a key's limit, an organisation's budget. */
    String limitWord() {
      return org ? "budget" : "limit";
    }

    /** What a suspension stops. */
    String suspendedWhat() {
      return org ? "every key of the organisation but its admin keys is" : "the key is";
    }

    AuditEventType suspended() {
      return org ? AuditEventType.ORG_SUSPENDED : AuditEventType.KEY_SUSPENDED;
    }

    AuditEventType reinstated() {
      return org ? AuditEventType.ORG_REINSTATED : AuditEventType.KEY_REINSTATED;
    }

    List<AlertRule> audience(RuleIndex rules, String orgId) {
      return org ? rules.forOrgBudget(orgId) : rules.forKey(shortName);
    }
  }

  public static Outputs onSpike(UsageSpike spike, RuleIndex rules, long now, Duration closedPeriodNotice) {
    Outputs out = Outputs.empty();
    long dayEnd = LocalDate.parse(spike.getDay()).plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
    Late late = Late.of("day " + spike.getDay(), dayEnd, now, closedPeriodNotice);
    String key = spike.getApiKeyId();
    String scope = key == null ? "organisation " + spike.getOrgId() : "API key " + key;
    String cause = "usage_spike:" + spike.getOrgId() + ":" + (key == null ? "*" : key) + ":" + spike.getDay();
    String text = String.format(Locale.ROOT, "Usage spike: %s used %d tokens on %s, %.1fx the %d tokens of %s.",
        scope, spike.getTokens(), spike.getDay(), spike.getRatio(), spike.getBaselineTokens(), spike.getBaselineDay());
    Map<String, String> details = new LinkedHashMap<>();
    details.put("day", spike.getDay());
    details.put("tokens", Long.toString(spike.getTokens()));
    details.put("baseline_day", spike.getBaselineDay());
    details.put("baseline_tokens", Long.toString(spike.getBaselineTokens()));
    details.put("ratio", String.format(Locale.ROOT, "%.3f", spike.getRatio()));
    out.audits().add(audit(cause, spike.getOrgId(), key, AuditEventType.USAGE_SPIKE, late.noted(text), now,
        late.noted(details)));
    List<AlertRule> audience = key == null ? rules.forOrg(spike.getOrgId()) : rules.forKey(key);
    notify(late.sink(out), cause, spike.getOrgId(), key, targets(audience), "[metering] usage spike: " + scope + " on "
        + spike.getDay(), text, AuditEventType.USAGE_SPIKE, details, now);
    return out;
  }

  /**
   * Reinstates a suspension whose month has ended; nothing if it has not, and nothing for a key
   * that was revoked meanwhile: a revoked key is never announced as active again.
   */
  public static Outputs onLapse(KeyStatus suspended, RuleIndex rules, boolean revoked, long now) {
    Outputs out = Outputs.empty();
    if (revoked || suspended.getState() != KeyState.SUSPENDED || suspended.getSuspendedUntil() == null
        || suspended.getSuspendedUntil() > now) {
      return out;
    }
    Scope scope = Scope.of(suspended);
    String key = suspended.getApiKeyId();
    String cause = "suspension_lapsed:" + scope.causeId() + ":" + suspended.getSuspendedUntil();
    String text = scope.name() + " is active again: its suspension ended with the month at "
        + Instant.ofEpochMilli(suspended.getSuspendedUntil()) + ".";
    out.statuses().add(status(key, suspended.getOrgId(), KeyState.ACTIVE, text, null, now));
    Map<String, String> details = Map.of("suspended_until", Instant.ofEpochMilli(suspended.getSuspendedUntil()).toString());
    out.audits().add(audit(cause, suspended.getOrgId(), key, scope.reinstated(), text, now, details));
    notifyReinstated(out, scope, rules, suspended.getOrgId(), cause, text, details, now);
    return out;
  }

  private static void onBreach(LimitEvent event, Scope scope, RuleIndex rules, KeyStatus current, long now,
      Late late, Outputs out) {
    String key = event.getApiKeyId();
    String cause = "limit_breached:" + scope.causeId() + ":" + event.getPeriod() + ":" + event.getDetectedAt();
    long until = nextMonthStart(event.getPeriod());
    boolean suspend = event.getHardLimit() && until > now;
    String text = scope.name() + " reached its " + limit(event, scope) + " in " + event.getPeriod() + " ("
        + (cost(event) ? dollars(event.getUsedCostMicros()) : Long.toString(event.getUsedTokens())) + " used). "
        + (!event.getHardLimit() ? "The " + scope.limitWord() + " is soft: calls continue."
            : suspend ? "The " + scope.limitWord() + " is hard: " + scope.suspendedWhat() + " suspended until "
                + Instant.ofEpochMilli(until) + "."
            : "The month has already ended, so nothing is suspended.");
    List<AlertRule> audience = scope.audience(rules, event.getOrgId());
    out.audits().add(audit(cause, event.getOrgId(), key, AuditEventType.LIMIT_BREACHED, late.noted(text), now,
        late.noted(limitDetails(event))));
    notify(late.sink(out), cause, event.getOrgId(), key, targets(audience), "[metering] " + scope.shortName()
        + " reached its monthly " + (cost(event) ? "cost" : "token") + " " + scope.limitWord(), text,
        AuditEventType.LIMIT_BREACHED, limitDetails(event), now);
    boolean alreadySuspended = suspendedFor(current, event.getPeriod());
    if (!event.getHardLimit() && alreadySuspended) {
      // the limit was switched from hard to soft while the scope was suspended for this month
      String reinstateCause = "limit_softened:" + scope.causeId() + ":" + event.getPeriod() + ":"
          + event.getDetectedAt();
      String used = cost(event) ? dollars(event.getUsedCostMicros()) + " is" : event.getUsedTokens() + " are";
      String reinstateText = scope.name() + " is active again: its " + limit(event, scope) + " is now soft, so calls"
          + " continue although " + used + " used in " + event.getPeriod() + ".";
      out.statuses().add(status(key, event.getOrgId(), KeyState.ACTIVE, reinstateText, null, now));
      out.audits().add(audit(reinstateCause, event.getOrgId(), key, scope.reinstated(), reinstateText, now,
          limitDetails(event)));
      notifyReinstated(out, scope, rules, event.getOrgId(), reinstateCause, reinstateText, limitDetails(event), now);
    }
    if (suspend && !alreadySuspended) {
      String suspendCause = (scope.org() ? "org_suspended:" : "key_suspended:") + scope.causeId() + ":"
          + event.getPeriod() + ":" + event.getDetectedAt();
      String reason = (scope.org() ? "the organisation's " : "") + limit(event, scope) + " reached in "
          + event.getPeriod();
      String suspendText = scope.name() + " is suspended until " + Instant.ofEpochMilli(until) + ": " + reason
          + (scope.org() ? "; " + scope.suspendedWhat() + " refused" : "") + ".";
      out.statuses().add(status(key, event.getOrgId(), KeyState.SUSPENDED, reason, until, now));
      Map<String, String> details = limitDetails(event);
      details.put("suspended_until", Instant.ofEpochMilli(until).toString());
      out.audits().add(audit(suspendCause, event.getOrgId(), key, scope.suspended(), suspendText, now, details));
      notify(out.notifications(), suspendCause, event.getOrgId(), key, targets(audience),
          "[metering] " + scope.shortName() + " suspended until " + Instant.ofEpochMilli(until), suspendText,
          scope.suspended(), details, now);
    }
  }

  /**
   * An organisation's reinstatement is told to its budget's rules, as its suspension was: every key
   * of the org works again. A key's reinstatement is in the audit log only, as before budgets.
   */
  private static void notifyReinstated(Outputs out, Scope scope, RuleIndex rules, String orgId, String cause,
      String text, Map<String, String> details, long now) {
    if (scope.org()) {
      notify(out.notifications(), cause, orgId, null, targets(scope.audience(rules, orgId)),
          "[metering] " + scope.shortName() + " is active again", text, AuditEventType.ORG_REINSTATED, details, now);
    }
  }

  private static boolean cost(LimitEvent event) {
    return event.getLimitUnit() == LimitUnit.COST;
  }

  /** "monthly token limit of 5000" or "monthly cost budget of $12.50": the limit the event is about. */
  private static String limit(LimitEvent event, Scope scope) {
    return cost(event) ? "monthly cost " + scope.limitWord() + " of " + dollars(event.getLimitCostMicros())
        : "monthly token " + scope.limitWord() + " of " + event.getLimitTokens();
  }

  /** Micro-dollars as dollars, exactly: $12.50, $0.0015. */
  private static String dollars(Long micros) {
    return "$" + Dollars.format(micros == null ? 0 : micros);
  }

  /**
   * Whether an alert about a period that ended at {@code end} comes too late to be sent: its
   * notifications are withheld (counted, never written to the outbox) and its audit record says so.
   */
  private record Late(String period, long end, Duration notice, boolean withheld) {
    static Late of(String period, long end, long now, Duration notice) {
      return new Late(period, end, notice, now - end >= notice.toMillis());
    }

    List<Notification> sink(Outputs out) {
      return withheld ? out.withheld() : out.notifications();
    }

    String noted(String text) {
      return withheld ? text + " Not sent: the " + period + " ended at " + Instant.ofEpochMilli(end) + ", more than "
          + Durations.inWords(notice) + " before this was decided (a backfill, or usage read late); recorded here only."
          : text;
    }

    Map<String, String> noted(Map<String, String> details) {
      if (withheld) {
        details.put("notified", "false");
      }
      return details;
    }
  }

  /** Whether {@code current} is a suspension for the month {@code period}, not for another month. */
  private static boolean suspendedFor(KeyStatus current, String period) {
    return current != null && current.getState() == KeyState.SUSPENDED && current.getSuspendedUntil() != null
        && current.getSuspendedUntil() == nextMonthStart(period);
  }

  /** Start of the UTC month after {@code period} (yyyy-MM). */
  public static long nextMonthStart(String period) {
    return YearMonth.parse(period).plusMonths(1).atDay(1).atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
  }

  /** Where a notification goes; a webhook also names the rule whose secret signs it. */
  private record Target(NotificationChannel channel, String address, String signingKey) {
  }

  private static Set<Target> targets(Collection<AlertRule> rules) {
    Set<Target> targets = new LinkedHashSet<>();
    rules.stream().sorted(java.util.Comparator.comparing(AlertRule::getId)).forEach(rule -> {
      if (rule.getNotificationEmail() != null) {
        targets.add(new Target(NotificationChannel.EMAIL, rule.getNotificationEmail(), null));
      }
      if (rule.getWebhookUrl() != null) {
        targets.add(new Target(NotificationChannel.WEBHOOK, rule.getWebhookUrl(),
            rule.getId() + ":" + rule.getWebhookSecretVersion()));
      }
    });
    return targets;
  }

  private static void notify(List<Notification> out, String cause, String orgId, String apiKeyId, Set<Target> targets,
      String subject, String text, AuditEventType type, Map<String, String> details, long now) {
    for (Target target : targets) {
      // a webhook is per rule (each signs with its own secret), an email per address
      String id = "ntf_" + hash(cause + "|" + target.channel() + "|" + target.address()
          + (target.signingKey() == null ? "" : "|" + target.signingKey()));
      String body = target.channel() == NotificationChannel.EMAIL ? text + "\n\nNotification " + id + "\n"
          : webhookBody(id, type, orgId, apiKeyId, subject, text, details);
      out.add(Notification.newBuilder()
          .setId(id).setOrgId(orgId).setApiKeyId(apiKeyId).setChannel(target.channel())
          .setTarget(target.address()).setSubject(subject).setBody(body).setCause(cause).setCreatedAt(now)
          .setSigningKey(target.signingKey())
          .build());
    }
  }

  private static String webhookBody(String id, AuditEventType type, String orgId, String apiKeyId, String subject,
      String text, Map<String, String> details) {
    ObjectNode body = JSON.createObjectNode();
    body.put("id", id);
    body.put("type", type.wireName());
    body.put("org_id", orgId);
    if (apiKeyId != null) {
      body.put("api_key_id", apiKeyId);
    }
    body.put("subject", subject);
    body.put("text", text);
    ObjectNode data = body.putObject("data");
    details.forEach(data::put);
    return body.toString();
  }

  private static AuditRecord audit(String cause, String orgId, String apiKeyId, AuditEventType type, String text,
      long now,
      Map<String, String> details) {
    Map<String, String> all = new LinkedHashMap<>(details);
    all.put("cause", cause);
    return AuditRecord.newBuilder()
        .setId("aud_" + hash(cause + "|" + type.wireName()))
        .setOrgId(orgId).setTimestamp(now).setEventType(type.wireName()).setActor(ACTOR).setApiKeyId(apiKeyId)
        .setDescription(text).setDetails(all)
        .build();
  }

  private static KeyStatus status(String key, String orgId, KeyState state, String reason, Long until, long now) {
    return KeyStatus.newBuilder().setApiKeyId(key).setOrgId(orgId).setState(state).setReason(reason)
        .setSuspendedUntil(until).setUpdatedAt(now).build();
  }

  private static Map<String, String> limitDetails(LimitEvent event) {
    Map<String, String> details = new LinkedHashMap<>();
    details.put("period", event.getPeriod());
    if (event.getScope() == LimitScope.ORG) {
      details.put("scope", "org");
    }
    details.put("used_tokens", Long.toString(event.getUsedTokens()));
    details.put("limit_tokens", Long.toString(event.getLimitTokens()));
    if (event.getLimitCostMicros() != null) {
      details.put("limit_unit", event.getLimitUnit().name().toLowerCase(Locale.ROOT));
      details.put("used_cost_micros", Long.toString(event.getUsedCostMicros()));
      details.put("limit_cost_micros", Long.toString(event.getLimitCostMicros()));
    }
    details.put("hard_limit", Boolean.toString(event.getHardLimit()));
    if (event.getRuleId() != null) {
      details.put("rule_id", event.getRuleId());
    }
    if (event.getTriggeringEventId() != null) {
      details.put("triggering_event_id", event.getTriggeringEventId());
    }
    return details;
  }

  /** First 128 bits of SHA-256, hex: ids derived from causes. */
  public static String hash(String text) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
