package dev.metering.stream.limits;

import static dev.metering.stream.MeteringFixture.event;
import static dev.metering.stream.MeteringFixture.key;
import static dev.metering.stream.MeteringFixture.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.LimitEvent;
import dev.metering.records.LimitEventKind;
import dev.metering.records.LimitUnit;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.UsageLimits;
import dev.metering.stream.MeteringFixture;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LimitsTest {

  private final MeteringFixture fx = new MeteringFixture();

  @AfterEach
  void close() {
    fx.close();
  }

  @Test
  void shouldCrossAThresholdExactlyAtItsBoundary() {
    fx.putKey(key("key-1", 1000L, true), "2026-11-01T00:00:00Z");
    fx.putRule(rule("rule-80", "key-1", 80), "2026-11-01T00:00:00Z");

    fx.send(event("key-1", "2026-11-10T10:00:00Z", 799));
    assertTrue(fx.limitEvents.isEmpty(), "79.9% is below the threshold");
    UsageEvent reaching = event("key-1", "2026-11-10T11:00:00Z", 1);
    fx.send(reaching);

    LimitEvent crossed = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.THRESHOLD_CROSSED, crossed.getKind());
    assertEquals("rule-80", crossed.getRuleId());
    assertEquals(80, crossed.getThresholdPercent());
    assertEquals(800, crossed.getUsedTokens());
    assertEquals(1000, crossed.getLimitTokens());
    assertEquals(80.0, crossed.getPercent());
    assertEquals("2026-11", crossed.getPeriod());
    assertEquals(reaching.getEventId(), crossed.getTriggeringEventId());
    assertEquals(reaching.getTimestamp(), crossed.getDetectedAt());
    assertTrue(fx.limitEvents.isEmpty());
  }

  @Test
  void shouldBreachExactlyAtTheLimitOncePerMonth() {
    fx.putKey(key("key-1", 1000L, true), "2026-11-01T00:00:00Z");

    fx.send(event("key-1", "2026-11-10T10:00:00Z", 999));
    assertTrue(fx.limitEvents.isEmpty());
    fx.send(event("key-1", "2026-11-10T11:00:00Z", 1));
    fx.send(event("key-1", "2026-11-10T12:00:00Z", 500));

    List<LimitEvent> events = fx.limitEvents.readValuesToList();
    assertEquals(1, events.size(), events.toString());
    assertEquals(LimitEventKind.LIMIT_BREACHED, events.get(0).getKind());
    assertEquals(1000, events.get(0).getUsedTokens());
    assertTrue(events.get(0).getHardLimit());
    assertTrue(fx.month("key-1", "2026-11").getBreached());
  }

  @Test
  void shouldEmitEveryThresholdASingleEventJumpsOverOnceInAscendingOrderThenTheBreach() {
    fx.putKey(key("key-1", 1000L, false), "2026-11-01T00:00:00Z");
    fx.putRule(rule("rule-90", "key-1", 90), "2026-11-01T00:00:00Z");
    fx.putRule(rule("rule-50", "key-1", 50), "2026-11-01T00:00:00Z");
    fx.putRule(rule("rule-75", "key-1", 75), "2026-11-01T00:00:00Z");

    fx.send(event("key-1", "2026-11-10T10:00:00Z", 1200));
    fx.send(event("key-1", "2026-11-10T11:00:00Z", 100));

    List<LimitEvent> events = fx.limitEvents.readValuesToList();
    assertEquals(List.of(LimitEventKind.THRESHOLD_CROSSED, LimitEventKind.THRESHOLD_CROSSED,
        LimitEventKind.THRESHOLD_CROSSED, LimitEventKind.LIMIT_BREACHED), events.stream().map(LimitEvent::getKind).toList());
    assertEquals(List.of("rule-50", "rule-75", "rule-90"), events.subList(0, 3).stream().map(LimitEvent::getRuleId).toList());
    assertFalse(events.get(3).getHardLimit());
  }

  @Test
  void shouldFireAgainInTheNextMonthAndNeverCountOneMonthAgainstAnother() {
    fx.putKey(key("key-1", 1000L, true), "2026-10-01T00:00:00Z");
    fx.putRule(rule("rule-50", "key-1", 50), "2026-10-01T00:00:00Z");
    fx.send(event("key-1", "2026-10-31T23:00:00Z", 1000));
    assertEquals(2, fx.limitEvents.readValuesToList().size());

    fx.send(event("key-1", "2026-11-01T00:00:00Z", 400));
    assertTrue(fx.limitEvents.isEmpty(), "November starts from zero");
    fx.send(event("key-1", "2026-11-01T01:00:00Z", 600));

    List<LimitEvent> november = fx.limitEvents.readValuesToList();
    assertEquals(List.of(LimitEventKind.THRESHOLD_CROSSED, LimitEventKind.LIMIT_BREACHED),
        november.stream().map(LimitEvent::getKind).toList());
    assertTrue(november.stream().allMatch(e -> e.getPeriod().equals("2026-11")));
    assertEquals(1000, november.get(1).getUsedTokens());
  }

  @Test
  void shouldCountALateEventOfThePreviousMonthForThatMonth() {
    fx.putKey(key("key-1", 1000L, true), "2026-10-01T00:00:00Z");
    fx.send(event("key-1", "2026-10-31T12:00:00Z", 900));
    fx.send(event("key-1", "2026-11-01T02:00:00Z", 50));

    fx.send(event("key-1", "2026-10-31T23:59:59Z", 100));

    assertEquals(1000, total(fx.month("key-1", "2026-10")));
    assertEquals(50, total(fx.month("key-1", "2026-11")));
    LimitEvent breach = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.LIMIT_BREACHED, breach.getKind());
    assertEquals("2026-10", breach.getPeriod());
  }

  @Test
  void shouldClearABreachAsSoonAsTheLimitIsRaisedAboveUsage() {
    fx.putKey(key("key-1", 1000L, true), "2026-11-01T00:00:00Z");
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 1200));
    assertEquals(LimitEventKind.LIMIT_BREACHED, fx.limitEvents.readValue().getKind());

    fx.putKey(key("key-1", 1200L, true), "2026-11-10T10:05:00Z");
    assertTrue(fx.limitEvents.isEmpty(), "a limit equal to usage is still reached");
    fx.putKey(key("key-1", 5000L, true), "2026-11-10T10:06:00Z");

    LimitEvent cleared = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.LIMIT_CLEARED, cleared.getKind());
    assertEquals(1200, cleared.getUsedTokens());
    assertEquals(5000, cleared.getLimitTokens());
    assertNull(cleared.getTriggeringEventId());
    assertFalse(fx.month("key-1", "2026-11").getBreached());

    fx.send(event("key-1", "2026-11-10T11:00:00Z", 3800));
    LimitEvent again = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.LIMIT_BREACHED, again.getKind(), "a breach of the new limit fires again");
    assertEquals(5000, again.getUsedTokens());
  }

  @Test
  void shouldClearABreachWhenTheLimitIsRemoved() {
    fx.putKey(key("key-1", 100L, true), "2026-11-01T00:00:00Z");
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 100));
    fx.limitEvents.readValue();

    fx.putKey(key("key-1", null, true), "2026-11-10T10:05:00Z");

    assertEquals(LimitEventKind.LIMIT_CLEARED, fx.limitEvents.readValue().getKind());
  }

  @Test
  void shouldBreachAsSoonAsTheLimitIsLoweredBelowUsage() {
    fx.putKey(key("key-1", 10_000L, true), "2026-11-01T00:00:00Z");
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 600));

    fx.putKey(key("key-1", 500L, true), "2026-11-10T10:05:00Z");

    LimitEvent breach = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.LIMIT_BREACHED, breach.getKind());
    assertEquals(600, breach.getUsedTokens());
    assertEquals(500, breach.getLimitTokens());
  }

  @Test
  void shouldFireARuleCreatedAfterUsageAlreadyPassedItsThreshold() {
    fx.putKey(key("key-1", 1000L, false), "2026-11-01T00:00:00Z");
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 600));

    fx.putRule(rule("rule-50", "key-1", 50), "2026-11-10T10:01:00Z");

    LimitEvent crossed = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.THRESHOLD_CROSSED, crossed.getKind());
    assertEquals("rule-50", crossed.getRuleId());
    fx.send(event("key-1", "2026-11-10T11:00:00Z", 10));
    assertTrue(fx.limitEvents.isEmpty(), "once per rule per month");
  }

  @Test
  void shouldStopFiringADeletedRule() {
    fx.putKey(key("key-1", 1000L, false), "2026-11-01T00:00:00Z");
    fx.putRule(rule("rule-50", "key-1", 50), "2026-11-01T00:00:00Z");

    fx.rules.pipeInput("rule-50", null, java.time.Instant.parse("2026-11-02T00:00:00Z"));
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 600));

    assertTrue(fx.limitEvents.isEmpty());
  }

  @Test
  void shouldFireTheThresholdsOfARuleReadAfterTheUsageAndTimedInAnEarlierMonth() {
    // issue 13: in a backfill the rules repartition reaches the task after the month's usage, and
    // the rule record carries its creation time, in the month before
    fx.putKey(key("key-1", 1000L, false), "2026-10-01T00:00:00Z");
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 900));

    fx.putRule(rule("rule-80", "key-1", 80), "2026-10-15T00:00:00Z");

    LimitEvent crossed = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.THRESHOLD_CROSSED, crossed.getKind());
    assertEquals("2026-11", crossed.getPeriod(), "the month open now, not the rule's");
    assertEquals(900, crossed.getUsedTokens());
  }

  @Test
  void shouldRecheckThePreviousMonthWhileTheGraceStillAcceptsItsUsage() {
    fx.putKey(key("key-1", 1000L, true), "2026-10-01T00:00:00Z");
    fx.send(event("key-1", "2026-10-31T23:00:00Z", 1500));
    assertEquals(LimitEventKind.LIMIT_BREACHED, fx.limitEvents.readValue().getKind());
    fx.send(event("key-1", "2026-11-01T01:00:00Z", 10));

    fx.putKey(key("key-1", 5000L, true), "2026-09-01T00:00:00Z");

    LimitEvent cleared = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.LIMIT_CLEARED, cleared.getKind());
    assertEquals("2026-10", cleared.getPeriod());
    assertTrue(fx.limitEvents.isEmpty(), "November is below both limits");
  }

  @Test
  void shouldAnnounceABreachedKeySwitchedFromSoftToHardAndBack() {
    fx.putKey(key("key-1", 1000L, false), "2026-11-01T00:00:00Z");
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 2000));
    LimitEvent soft = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.LIMIT_BREACHED, soft.getKind());
    assertFalse(soft.getHardLimit());

    fx.putKey(key("key-1", 1000L, true), "2026-11-10T10:05:00Z");
    LimitEvent hard = fx.limitEvents.readValue();
    fx.send(event("key-1", "2026-11-10T11:00:00Z", 10));
    assertTrue(fx.limitEvents.isEmpty(), "announced once per change, not per event");
    fx.putKey(key("key-1", 1000L, false), "2026-11-10T12:00:00Z");
    LimitEvent softAgain = fx.limitEvents.readValue();

    assertEquals(LimitEventKind.LIMIT_BREACHED, hard.getKind());
    assertTrue(hard.getHardLimit(), "soft to hard on a breached key: alert-service suspends it");
    assertEquals(2000, hard.getUsedTokens());
    assertEquals(LimitEventKind.LIMIT_BREACHED, softAgain.getKind());
    assertFalse(softAgain.getHardLimit(), "hard to soft: alert-service reinstates it");
    assertTrue(fx.limitEvents.isEmpty());
  }

  @Test
  void shouldForgetFiredRulesThatWereDeletedOnceTheMonthsListOutgrowsOneKeysRules() {
    // issue 13: creating and deleting rules must not grow a key's month state without bound
    fx.putKey(key("key-1", 1000L, false), "2026-11-01T00:00:00Z");
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 600));
    // a rule fires once per limit (tokens, cost): the list may hold two entries per rule before pruning
    int outgrown = 2 * UsageLimits.MAX_ALERT_RULES_PER_KEY + 1;
    for (int i = 0; i < outgrown; i++) {
      fx.putRule(rule("rule-" + i, "key-1", 50), "2026-11-10T10:01:00Z");
      fx.rules.pipeInput("rule-" + i, null, java.time.Instant.parse("2026-11-10T10:02:00Z"));
    }
    assertEquals(outgrown, fx.limitEvents.readValuesToList().size());

    fx.putRule(rule("rule-kept", "key-1", 50), "2026-11-10T10:03:00Z");

    assertEquals(List.of("rule-kept"), fx.month("key-1", "2026-11").getFiredRuleIds());
  }

  @Test
  void shouldIgnoreRulesBeyondTheLimitOfOneKey() {
    fx.putKey(key("key-1", 1000L, false), "2026-11-01T00:00:00Z");
    for (int i = 0; i < 101; i++) {
      fx.putRule(rule("rule-" + String.format("%03d", i), "key-1", 50), "2026-11-01T00:00:00Z");
    }

    fx.send(event("key-1", "2026-11-10T10:00:00Z", 600));

    List<LimitEvent> crossed = fx.limitEvents.readValuesToList();
    assertEquals(100, crossed.size(), "the 101st rule of a key is ignored (METERING_MAX_RULES_PER_KEY)");
    assertTrue(crossed.stream().noneMatch(e -> e.getRuleId().equals("rule-100")));
  }

  @Test
  void shouldEmitNothingForKeysWithoutALimitOrRevoked() {
    fx.putKey(key("key-1", null, true), "2026-11-01T00:00:00Z");
    ApiKey revoked = key("key-2", 10L, true);
    revoked.setStatus(ApiKeyStatus.REVOKED);
    fx.putKey(revoked, "2026-11-01T00:00:00Z");

    fx.send(event("key-1", "2026-11-10T10:00:00Z", 1_000_000));
    fx.send(event("key-2", "2026-11-10T10:00:00Z", 1_000));
    fx.send(event("key-3", "2026-11-10T10:00:00Z", 1_000));

    assertTrue(fx.limitEvents.isEmpty());
    assertEquals(1_000, total(fx.month("key-3", "2026-11")), "usage of an unknown key still counts");
  }

  /** A key limited in dollars only: the fixture's model costs 3 micro-dollars per input token. */
  private static ApiKey costLimited(String id, Long maxTokens, long maxCostMicros, boolean hard) {
    ApiKey key = key(id, maxTokens, hard);
    key.setMaxCostMicrosPerMonth(maxCostMicros);
    return key;
  }

  @Test
  void shouldCrossThresholdsAndBreachACostLimitSayingItIsTheCost() {
    fx.putKey(costLimited("key-1", null, 3_000, true), "2026-11-01T00:00:00Z");
    fx.putRule(rule("rule-50", "key-1", 50), "2026-11-01T00:00:00Z");

    fx.send(event("key-1", "2026-11-10T10:00:00Z", 499));
    assertTrue(fx.limitEvents.isEmpty(), "$0.001497 of $0.003 is below 50%");
    fx.send(event("key-1", "2026-11-10T11:00:00Z", 1));
    LimitEvent crossed = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.THRESHOLD_CROSSED, crossed.getKind());
    assertEquals(LimitUnit.COST, crossed.getLimitUnit());
    assertEquals(1_500, crossed.getUsedCostMicros());
    assertEquals(3_000L, crossed.getLimitCostMicros());
    assertEquals(50.0, crossed.getPercent());
    assertEquals(0, crossed.getLimitTokens(), "no token limit");

    fx.send(event("key-1", "2026-11-10T12:00:00Z", 500));
    fx.send(event("key-1", "2026-11-10T13:00:00Z", 500));
    List<LimitEvent> events = fx.limitEvents.readValuesToList();
    assertEquals(1, events.size(), "one breach per month: " + events);
    assertEquals(LimitEventKind.LIMIT_BREACHED, events.get(0).getKind());
    assertEquals(LimitUnit.COST, events.get(0).getLimitUnit());
    assertEquals(3_000, events.get(0).getUsedCostMicros());
    assertTrue(events.get(0).getHardLimit());
  }

  @Test
  void shouldBreachOnWhicheverLimitComesFirstAndCrossEachLimitsThresholdOnce() {
    // 1,000 tokens or $0.0015 (500 tokens): the cost limit comes first
    fx.putKey(costLimited("key-1", 1_000L, 1_500, true), "2026-11-01T00:00:00Z");
    fx.putRule(rule("rule-80", "key-1", 80), "2026-11-01T00:00:00Z");

    fx.send(event("key-1", "2026-11-10T10:00:00Z", 400));
    LimitEvent costThreshold = fx.limitEvents.readValue();
    assertEquals(LimitUnit.COST, costThreshold.getLimitUnit());
    assertEquals(80.0, costThreshold.getPercent());
    fx.send(event("key-1", "2026-11-10T11:00:00Z", 100));
    LimitEvent breach = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.LIMIT_BREACHED, breach.getKind());
    assertEquals(LimitUnit.COST, breach.getLimitUnit());
    assertEquals(500, breach.getUsedTokens());
    assertEquals(1_000, breach.getLimitTokens());

    fx.send(event("key-1", "2026-11-10T12:00:00Z", 300));
    List<LimitEvent> later = fx.limitEvents.readValuesToList();
    assertEquals(1, later.size(), "the token threshold once, no second breach: " + later);
    assertEquals(LimitEventKind.THRESHOLD_CROSSED, later.get(0).getKind());
    assertEquals(LimitUnit.TOKENS, later.get(0).getLimitUnit());
    assertEquals(80.0, later.get(0).getPercent());
    assertEquals(List.of("rule-80/cost", "rule-80"), fx.month("key-1", "2026-11").getFiredRuleIds());
  }

  @Test
  void shouldClearOnlyOnceNeitherLimitIsReached() {
    fx.putKey(costLimited("key-1", 1_000L, 1_500, true), "2026-11-01T00:00:00Z");
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 1_200));
    LimitEvent breach = fx.limitEvents.readValue();
    assertEquals(LimitUnit.TOKENS, breach.getLimitUnit(), "both reached at once: the token limit is named");

    fx.putKey(costLimited("key-1", 1_000L, 1_000_000, true), "2026-11-10T11:00:00Z");
    assertTrue(fx.limitEvents.isEmpty(), "the cost limit raised, but the token limit is still reached");
    fx.putKey(costLimited("key-1", 5_000L, 1_000_000, true), "2026-11-10T12:00:00Z");
    LimitEvent cleared = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.LIMIT_CLEARED, cleared.getKind());
    assertFalse(fx.month("key-1", "2026-11").getBreached());

    fx.putKey(costLimited("key-1", 5_000L, 3_000, true), "2026-11-10T13:00:00Z");
    LimitEvent again = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.LIMIT_BREACHED, again.getKind(), "a cost limit lowered below usage breaches at once");
    assertEquals(LimitUnit.COST, again.getLimitUnit());
  }

  private static long total(dev.metering.records.state.MonthState state) {
    return dev.metering.stream.usage.Totals.totalTokens(state.getTotals());
  }
}
