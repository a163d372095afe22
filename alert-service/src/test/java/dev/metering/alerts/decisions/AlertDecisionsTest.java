package dev.metering.alerts.decisions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.records.AlertRule;
import dev.metering.records.AuditRecord;
import dev.metering.records.KeyState;
import dev.metering.records.KeyStatus;
import dev.metering.records.LimitEvent;
import dev.metering.records.LimitEventKind;
import dev.metering.records.LimitScope;
import dev.metering.records.LimitUnit;
import dev.metering.records.Notification;
import dev.metering.records.NotificationChannel;
import dev.metering.records.UsageSpike;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class AlertDecisionsTest {

  private static final long NOW = Instant.parse("2026-11-20T10:00:00Z").toEpochMilli();
  private static final long DECEMBER = Instant.parse("2026-12-01T00:00:00Z").toEpochMilli();
  private static final Duration NOTICE = Duration.ofDays(3);

  private final RuleIndex rules = RuleIndex.of(List.of(
      rule("rule-80", "key-1", 80, "ops@example.com", "https://hooks.example.com/T000/secret-path"),
      rule("rule-50", "key-1", 50, "ops@example.com", null),
      rule("rule-x", "key-9", 50, "other@example.com", null)));

  @Test
  void shouldSuspendAHardLimitedKeyUntilTheEndOfItsMonthAndTellEveryTargetOnce() {
    Outputs out = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, true, null), rules, null, NOW, NOTICE);

    assertEquals(1, out.statuses().size());
    KeyStatus status = out.statuses().get(0);
    assertEquals(KeyState.SUSPENDED, status.getState());
    assertEquals(DECEMBER, status.getSuspendedUntil());
    assertTrue(status.getReason().contains("1000"), status.getReason());
    assertEquals(List.of("limit_breached", "key_suspended"), out.audits().stream().map(AuditRecord::getEventType).toList());
    assertTrue(out.audits().stream().allMatch(a -> a.getActor().equals("system:alert-service")));
    // two rules share one email address: one email and one webhook per cause
    assertEquals(4, out.notifications().size());
    assertEquals(2, out.notifications().stream().filter(n -> n.getChannel() == NotificationChannel.EMAIL).count());
  }

  @Test
  void shouldOnlyAlertForASoftLimit() {
    Outputs out = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, false, null), rules, null, NOW, NOTICE);

    assertTrue(out.statuses().isEmpty());
    assertEquals(List.of("limit_breached"), out.audits().stream().map(AuditRecord::getEventType).toList());
    assertTrue(out.audits().get(0).getDescription().contains("soft"));
  }

  @Test
  void shouldNotSuspendForAMonthThatHasEnded() {
    Outputs out = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, true, null), rules, null, DECEMBER, NOTICE);

    assertTrue(out.statuses().isEmpty());
    assertTrue(out.audits().get(0).getDescription().contains("already ended"));
  }

  @Test
  void shouldNotSuspendAKeyTwiceForTheSameMonth() {
    KeyStatus suspended = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, true, null), rules, null, NOW, NOTICE)
        .statuses().get(0);

    Outputs again = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, true, null), rules, suspended, NOW, NOTICE);

    assertTrue(again.statuses().isEmpty());
  }

  @Test
  void shouldNotifyOnlyTheCrossedRulesTargets() {
    Outputs out = AlertDecisions.onLimitEvent(limit(LimitEventKind.THRESHOLD_CROSSED, false, "rule-80"), rules, null, NOW, NOTICE);

    assertEquals(List.of(NotificationChannel.EMAIL, NotificationChannel.WEBHOOK),
        out.notifications().stream().map(Notification::getChannel).toList());
    Notification webhook = out.notifications().get(1);
    assertTrue(webhook.getBody().startsWith("{"), "webhooks carry JSON");
    assertTrue(webhook.getBody().contains("\"type\":\"threshold_crossed\""), webhook.getBody());
    assertTrue(out.notifications().get(0).getSubject().contains("80%"));
  }

  @Test
  void shouldReinstateASuspendedKeyWhoseLimitBecameSoftAndSuspendItWhenItBecomesHardAgain() {
    // issue 13: hard_limit changes on a breached key acted on nothing
    KeyStatus suspended = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, true, null), rules, null, NOW, NOTICE)
        .statuses().get(0);

    Outputs softened = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, false, null), rules,
        suspended, NOW, NOTICE);
    Outputs hardened = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, true, null), rules,
        softened.statuses().get(0), NOW, NOTICE);

    assertEquals(KeyState.ACTIVE, softened.statuses().get(0).getState());
    assertEquals(List.of("limit_breached", "key_reinstated"),
        softened.audits().stream().map(AuditRecord::getEventType).toList());
    assertTrue(softened.audits().get(1).getDescription().contains("now soft"), softened.audits().get(1).getDescription());
    assertEquals(KeyState.SUSPENDED, hardened.statuses().get(0).getState());
    assertEquals(List.of("limit_breached", "key_suspended"),
        hardened.audits().stream().map(AuditRecord::getEventType).toList());
  }

  @Test
  void shouldNotReinstateASuspensionOfAnotherMonthWhenAnEarlierMonthIsCleared() {
    KeyStatus suspendedForNovember = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, true, null),
        rules, null, NOW, NOTICE).statuses().get(0);
    LimitEvent octoberCleared = LimitEvent.newBuilder(limit(LimitEventKind.LIMIT_CLEARED, true, null))
        .setPeriod("2026-10").build();

    Outputs out = AlertDecisions.onLimitEvent(octoberCleared, rules, suspendedForNovember, NOW, NOTICE);

    assertTrue(out.isEmpty(), "October's limit says nothing about November's suspension");
  }

  @Test
  void shouldReinstateASuspendedKeyWhenItsLimitIsCleared() {
    KeyStatus suspended = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, true, null), rules, null, NOW, NOTICE)
        .statuses().get(0);

    Outputs cleared = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_CLEARED, true, null), rules, suspended, NOW, NOTICE);
    Outputs clearedNotSuspended = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_CLEARED, true, null), rules,
        null, NOW, NOTICE);

    assertEquals(KeyState.ACTIVE, cleared.statuses().get(0).getState());
    assertNull(cleared.statuses().get(0).getSuspendedUntil());
    assertEquals("key_reinstated", cleared.audits().get(0).getEventType());
    assertTrue(clearedNotSuspended.isEmpty());
  }

  @Test
  void shouldReinstateOnlyOnceTheMonthHasEnded() {
    KeyStatus suspended = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, true, null), rules, null, NOW, NOTICE)
        .statuses().get(0);

    assertTrue(AlertDecisions.onLapse(suspended, rules, false, DECEMBER - 1).isEmpty());
    Outputs lapsed = AlertDecisions.onLapse(suspended, rules, false, DECEMBER);

    assertEquals(KeyState.ACTIVE, lapsed.statuses().get(0).getState());
    assertEquals("key_reinstated", lapsed.audits().get(0).getEventType());
  }

  @Test
  void shouldNeverAnnounceARevokedKeyAsActiveAgain() {
    // issue 13: a key revoked while suspended was reinstated, "active again", at the end of the month
    KeyStatus suspended = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, true, null), rules, null, NOW, NOTICE)
        .statuses().get(0);

    Outputs lapsed = AlertDecisions.onLapse(suspended, rules, true, DECEMBER);

    assertTrue(lapsed.isEmpty(), lapsed.toString());
  }

  @Test
  void shouldRecordButNotSendAlertsAboutAMonthThatEndedLongerAgoThanTheNotice() {
    // a backfill of past months sent every threshold and breach of them by email and webhook at once
    long lastMoment = DECEMBER + NOTICE.toMillis() - 1;

    Outputs inTime = AlertDecisions.onLimitEvent(limit(LimitEventKind.THRESHOLD_CROSSED, false, "rule-80"), rules,
        null, lastMoment, NOTICE);
    Outputs threshold = AlertDecisions.onLimitEvent(limit(LimitEventKind.THRESHOLD_CROSSED, false, "rule-80"), rules,
        null, lastMoment + 1, NOTICE);
    Outputs breach = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, true, null), rules, null,
        lastMoment + 1, NOTICE);

    assertEquals(2, inTime.notifications().size(), "rule-80's email and webhook, within the notice");
    assertTrue(inTime.withheld().isEmpty());
    assertEquals(List.of(), threshold.notifications());
    assertEquals(inTime.notifications().stream().map(Notification::getId).toList(),
        threshold.withheld().stream().map(Notification::getId).toList(), "the same two, withheld");
    AuditRecord audit = threshold.audits().get(0);
    assertEquals(inTime.audits().get(0).getId(), audit.getId());
    assertEquals("false", audit.getDetails().get("notified"));
    assertTrue(audit.getDescription().contains("Not sent: the month 2026-11 ended at 2026-12-01T00:00:00Z, more than "
        + "72 hours before"), audit.getDescription());
    assertNull(inTime.audits().get(0).getDetails().get("notified"));
    assertEquals(List.of(), breach.notifications());
    assertEquals(2, breach.withheld().size(), "the breach's email and webhook; the month is over, so no suspension");
    assertEquals(List.of("limit_breached"), breach.audits().stream().map(AuditRecord::getEventType).toList());
    assertTrue(breach.statuses().isEmpty());
  }

  @Test
  void shouldRecordButNotSendASpikeOfADayThatEndedLongerAgoThanTheNotice() {
    UsageSpike spike = UsageSpike.newBuilder().setOrgId("org-1").setApiKeyId("key-9").setDay("2026-11-20")
        .setTokens(4000).setBaselineDay("2026-11-13").setBaselineTokens(1000).setRatio(4.0).setDetectedAt(NOW).build();
    long dayEnd = Instant.parse("2026-11-21T00:00:00Z").toEpochMilli();

    Outputs inTime = AlertDecisions.onSpike(spike, rules, dayEnd + NOTICE.toMillis() - 1, NOTICE);
    Outputs late = AlertDecisions.onSpike(spike, rules, dayEnd + NOTICE.toMillis(), NOTICE);
    Outputs noNotice = AlertDecisions.onSpike(spike, rules, dayEnd, Duration.ZERO);

    assertEquals(List.of("other@example.com"), inTime.notifications().stream().map(Notification::getTarget).toList());
    assertEquals(List.of(), late.notifications());
    assertEquals(List.of("other@example.com"), late.withheld().stream().map(Notification::getTarget).toList());
    assertTrue(late.audits().get(0).getDescription().contains("the day 2026-11-20 ended"),
        late.audits().get(0).getDescription());
    assertEquals(List.of(), noNotice.notifications(), "a notice of zero sends alerts of open periods only");
  }

  @Test
  void shouldSayTheNoticeInWords() {
    UsageSpike spike = UsageSpike.newBuilder().setOrgId("org-1").setApiKeyId("key-9").setDay("2026-11-20")
        .setTokens(4000).setBaselineDay("2026-11-13").setBaselineTokens(1000).setRatio(4.0).setDetectedAt(NOW).build();
    long dayEnd = Instant.parse("2026-11-21T00:00:00Z").toEpochMilli();
    Duration notice = Duration.ofMinutes(90);

    String description = AlertDecisions.onSpike(spike, rules, dayEnd + notice.toMillis(), notice).audits().get(0)
        .getDescription();

    assertTrue(description.contains("more than 90 minutes before this was decided"), "not PT1H30M: " + description);
  }

  @Test
  void shouldDeriveIdsFromTheCauseSoAReplayWritesTheSameRecords() {
    Outputs first = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, true, null), rules, null, NOW, NOTICE);
    Outputs replay = AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, true, null), rules, null, NOW + 5000, NOTICE);

    assertEquals(first.notifications().stream().map(Notification::getId).toList(),
        replay.notifications().stream().map(Notification::getId).toList());
    assertEquals(first.audits().stream().map(AuditRecord::getId).toList(),
        replay.audits().stream().map(AuditRecord::getId).toList());
  }

  @Test
  void shouldTellAnOrgSpikeToEveryRuleOfTheOrgAndAKeySpikeToThatKeysRules() {
    UsageSpike orgSpike = UsageSpike.newBuilder().setOrgId("org-1").setApiKeyId(null).setDay("2026-11-20")
        .setTokens(4000).setBaselineDay("2026-11-13").setBaselineTokens(1000).setRatio(4.0).setDetectedAt(NOW).build();
    UsageSpike keySpike = UsageSpike.newBuilder(orgSpike).setApiKeyId("key-9").build();

    Outputs org = AlertDecisions.onSpike(orgSpike, rules, NOW, NOTICE);
    Outputs key = AlertDecisions.onSpike(keySpike, rules, NOW, NOTICE);

    assertEquals(3, org.notifications().size(), "ops@ email, the webhook, other@ email");
    assertEquals(List.of("other@example.com"), key.notifications().stream().map(Notification::getTarget).toList());
    assertEquals("usage_spike", org.audits().get(0).getEventType());
    assertNull(org.audits().get(0).getApiKeyId());
  }

  @Test
  void shouldNameTheCostLimitInTheSuspensionAndItsMessages() {
    LimitEvent breach = cost(limit(LimitEventKind.LIMIT_BREACHED, true, null), 12_500_000, 12_600_000);

    Outputs out = AlertDecisions.onLimitEvent(breach, rules, null, NOW, NOTICE);

    assertEquals("monthly cost limit of $12.50 reached in 2026-11", out.statuses().get(0).getReason());
    assertTrue(out.audits().get(0).getDescription().contains("reached its monthly cost limit of $12.50 in 2026-11"
        + " ($12.60 used)"), out.audits().get(0).getDescription());
    assertEquals("cost", out.audits().get(0).getDetails().get("limit_unit"));
    assertEquals("12500000", out.audits().get(0).getDetails().get("limit_cost_micros"));
    assertTrue(out.notifications().get(0).getSubject().endsWith("reached its monthly cost limit"));
  }

  @Test
  void shouldTellBothCrossingsOfOneRuleTokensAndCostAsTwoNotifications() {
    LimitEvent tokens = limit(LimitEventKind.THRESHOLD_CROSSED, false, "rule-80");
    LimitEvent dollars = cost(tokens, 1_500, 1_200);

    Outputs byTokens = AlertDecisions.onLimitEvent(tokens, rules, null, NOW, NOTICE);
    Outputs byCost = AlertDecisions.onLimitEvent(dollars, rules, null, NOW, NOTICE);

    assertTrue(byCost.notifications().get(0).getSubject().contains("80% of its monthly cost limit"));
    assertTrue(byCost.audits().get(0).getDescription().contains("used $0.0012 of its $0.0015 monthly cost limit"),
        byCost.audits().get(0).getDescription());
    assertTrue(java.util.Collections.disjoint(ids(byTokens), ids(byCost)),
        "the cost crossing is a cause of its own, not a replay of the token crossing");
  }

  @Test
  void shouldSuspendTheWholeOrganisationForAHardBudgetAndTellOnlyTheBudgetsRules() {
    RuleIndex withOrgRule = RuleIndex.of(List.of(rule("rule-80", "key-1", 80, "ops@example.com", null),
        rule("rule-org", null, 90, "finance@example.com", null)));
    LimitEvent breach = org(limit(LimitEventKind.LIMIT_BREACHED, true, null));

    Outputs out = AlertDecisions.onLimitEvent(breach, withOrgRule, null, NOW, NOTICE);

    KeyStatus status = out.statuses().get(0);
    assertNull(status.getApiKeyId(), "the organisation's own status");
    assertEquals("org-1", status.getOrgId());
    assertEquals(KeyState.SUSPENDED, status.getState());
    assertEquals(DECEMBER, status.getSuspendedUntil());
    assertEquals("the organisation's monthly token budget of 1000 reached in 2026-11", status.getReason());
    assertEquals(List.of("limit_breached", "org_suspended"), out.audits().stream().map(AuditRecord::getEventType).toList());
    assertTrue(out.audits().stream().allMatch(a -> a.getApiKeyId() == null));
    assertEquals(List.of("finance@example.com", "finance@example.com"),
        out.notifications().stream().map(Notification::getTarget).toList(), "the budget's rule, not the key's");
    assertEquals("Organisation org-1 is suspended until 2026-12-01T00:00:00Z: the organisation's monthly token budget of"
        + " 1000 reached in 2026-11; every key of the organisation but its admin keys is refused.",
        out.audits().get(1).getDescription());
    assertTrue(java.util.Collections.disjoint(ids(out),
        ids(AlertDecisions.onLimitEvent(limit(LimitEventKind.LIMIT_BREACHED, true, null), withOrgRule, null, NOW, NOTICE))),
        "an org's breach and a key's breach at the same moment are different causes");

    Outputs cleared = AlertDecisions.onLimitEvent(org(limit(LimitEventKind.LIMIT_CLEARED, true, null)), withOrgRule,
        status, NOW, NOTICE);
    assertEquals(KeyState.ACTIVE, cleared.statuses().get(0).getState());
    assertNull(cleared.statuses().get(0).getApiKeyId());
    assertEquals("org_reinstated", cleared.audits().get(0).getEventType());
    assertEquals(List.of("finance@example.com"), cleared.notifications().stream().map(Notification::getTarget).toList(),
        "the budget's rules hear that the org works again");
    Outputs lapsed = AlertDecisions.onLapse(status, withOrgRule, false, DECEMBER);
    assertEquals("org_reinstated", lapsed.audits().get(0).getEventType());
    assertEquals("[metering] organisation org-1 is active again", lapsed.notifications().get(0).getSubject());
    assertTrue(lapsed.audits().get(0).getDescription().startsWith("Organisation org-1 is active again"));
  }

  @Test
  void shouldTellAnOrgThresholdCrossingToTheCrossedOrgRule() {
    RuleIndex withOrgRule = RuleIndex.of(List.of(rule("rule-org", null, 80, "finance@example.com", null)));
    Outputs out = AlertDecisions.onLimitEvent(cost(org(limit(LimitEventKind.THRESHOLD_CROSSED, false, "rule-org")),
        1_500, 1_200), withOrgRule, null, NOW, NOTICE);

    assertEquals("Organisation org-1 used $0.0012 of its $0.0015 monthly cost budget (80.0%) in 2026-11, crossing"
        + " the 80% alert threshold.", out.audits().get(0).getDescription());
    assertEquals("org", out.audits().get(0).getDetails().get("scope"));
    assertEquals("[metering] organisation org-1 reached 80% of its monthly cost budget",
        out.notifications().get(0).getSubject());
  }

  private static LimitEvent org(LimitEvent event) {
    return LimitEvent.newBuilder(event).setScope(LimitScope.ORG).setApiKeyId(null).build();
  }

  private static List<String> ids(Outputs out) {
    List<String> ids = new java.util.ArrayList<>(out.notifications().stream().map(Notification::getId).toList());
    out.audits().forEach(audit -> ids.add(audit.getId()));
    return ids;
  }

  private static LimitEvent cost(LimitEvent event, long limitMicros, long usedMicros) {
    return LimitEvent.newBuilder(event).setLimitUnit(LimitUnit.COST).setLimitCostMicros(limitMicros)
        .setUsedCostMicros(usedMicros).setPercent(usedMicros * 100.0 / limitMicros).build();
  }

  private static LimitEvent limit(LimitEventKind kind, boolean hard, String ruleId) {
    return LimitEvent.newBuilder()
        .setKind(kind).setOrgId("org-1").setApiKeyId("key-1").setPeriod("2026-11").setUsedTokens(1000)
        .setLimitTokens(1000).setPercent(100.0).setRuleId(ruleId).setThresholdPercent(ruleId == null ? null : 80)
        .setHardLimit(hard).setTriggeringEventId("evt-1").setDetectedAt(NOW - 1000).build();
  }

  private static AlertRule rule(String id, String key, int threshold, String email, String webhook) {
    return AlertRule.newBuilder().setId(id).setOrgId("org-1").setName(id).setApiKeyId(key)
        .setThresholdPercent(threshold).setNotificationEmail(email).setWebhookUrl(webhook)
        .setCreatedBy("admin@example.com").setCreatedAt(0L).build();
  }
}
