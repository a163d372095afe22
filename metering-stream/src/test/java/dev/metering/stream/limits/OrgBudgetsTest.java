package dev.metering.stream.limits;

import static dev.metering.stream.MeteringFixture.ORG;
import static dev.metering.stream.MeteringFixture.budget;
import static dev.metering.stream.MeteringFixture.event;
import static dev.metering.stream.MeteringFixture.key;
import static dev.metering.stream.MeteringFixture.orgRule;
import static dev.metering.stream.MeteringFixture.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.records.LimitEvent;
import dev.metering.records.LimitEventKind;
import dev.metering.records.LimitScope;
import dev.metering.records.LimitUnit;
import dev.metering.records.UsageEvent;
import dev.metering.stream.MeteringFixture;
import dev.metering.stream.usage.Totals;
import java.time.Instant;
import java.util.List;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The organisation's month against its budget: the same transitions as a key's, over every key's usage. */
class OrgBudgetsTest {

  private final MeteringFixture fx = new MeteringFixture();

  @AfterEach
  void close() {
    fx.close();
  }

  @Test
  void shouldCrossTheOrgsThresholdAndBreachItsBudgetOnTwoKeysTogether() {
    fx.putKey(key("key-1", null, false), "2026-11-01T00:00:00Z");
    fx.putKey(key("key-2", null, false), "2026-11-01T00:00:00Z");
    fx.putBudget(budget(1_000L, null, true), "2026-11-01T00:00:00Z");
    fx.putRule(orgRule("rule-org-50", 50), "2026-11-01T00:00:00Z");

    fx.send(event("key-1", "2026-11-10T10:00:00Z", 300));
    fx.send(event("key-2", "2026-11-10T10:01:00Z", 199));
    assertTrue(fx.limitEvents.isEmpty(), "499 of 1,000 is below 50%");
    UsageEvent crossing = event("key-2", "2026-11-10T10:02:00Z", 1);
    fx.send(crossing);

    TestRecord<String, LimitEvent> crossed = fx.limitEvents.readRecord();
    assertEquals(ORG, crossed.key(), "org events are keyed by org_id");
    assertEquals(LimitScope.ORG, crossed.value().getScope());
    assertNull(crossed.value().getApiKeyId());
    assertEquals(LimitEventKind.THRESHOLD_CROSSED, crossed.value().getKind());
    assertEquals("rule-org-50", crossed.value().getRuleId());
    assertEquals(500, crossed.value().getUsedTokens());
    assertEquals(1_000, crossed.value().getLimitTokens());
    assertEquals(50.0, crossed.value().getPercent());
    assertEquals(crossing.getEventId(), crossed.value().getTriggeringEventId());

    fx.send(event("key-1", "2026-11-10T11:00:00Z", 499));
    assertTrue(fx.limitEvents.isEmpty());
    fx.send(event("key-2", "2026-11-10T11:01:00Z", 1));
    LimitEvent breach = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.LIMIT_BREACHED, breach.getKind());
    assertEquals(LimitScope.ORG, breach.getScope());
    assertEquals(1_000, breach.getUsedTokens());
    assertTrue(breach.getHardLimit());

    fx.send(event("key-1", "2026-11-10T12:00:00Z", 5_000));
    assertTrue(fx.limitEvents.isEmpty(), "one breach per month");
    assertEquals(6_000, Totals.totalTokens(fx.orgMonth(ORG, "2026-11").getTotals()));
  }

  @Test
  void shouldBreachAndClearAtOnceWhenTheBudgetIsLoweredRaisedOrRemoved() {
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 800));
    assertTrue(fx.limitEvents.isEmpty(), "no budget yet, but the month is kept");

    fx.putBudget(budget(500L, null, true), "2026-11-10T11:00:00Z");
    LimitEvent breach = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.LIMIT_BREACHED, breach.getKind());
    assertEquals(LimitScope.ORG, breach.getScope());
    assertEquals(800, breach.getUsedTokens());
    assertNull(breach.getTriggeringEventId(), "caused by the budget, not by a call");

    fx.putBudget(budget(2_000L, null, true), "2026-11-10T12:00:00Z");
    LimitEvent cleared = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.LIMIT_CLEARED, cleared.getKind());
    assertFalse(fx.orgMonth(ORG, "2026-11").getBreached());

    fx.putBudget(budget(null, 2_000L, true), "2026-11-10T13:00:00Z");
    LimitEvent costBreach = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.LIMIT_BREACHED, costBreach.getKind(), "$0.0024 used of a $0.002 budget");
    assertEquals(LimitUnit.COST, costBreach.getLimitUnit());
    assertEquals(2_400, costBreach.getUsedCostMicros());

    fx.putBudget(budget(null, null, true), "2026-11-10T14:00:00Z");
    assertEquals(LimitEventKind.LIMIT_CLEARED, fx.limitEvents.readValue().getKind(), "the budget removed");
    assertTrue(fx.limitEvents.isEmpty());
  }

  @Test
  void shouldJudgeABudgetChangeAtTheOrgsUsageWatermarkWhateverTimestampAnEarlierBudgetRecordCarried() {
    // a budget record stamped decades ahead (a producer's wrong clock, or a hostile one) reaches the org task first
    fx.putBudget(budget(null, null, true), "2099-01-01T00:00:00Z");
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 800));

    fx.putBudget(budget(500L, null, true), "2026-11-10T11:00:00Z");
    TestRecord<String, LimitEvent> breach = fx.limitEvents.readRecord();
    assertEquals(LimitEventKind.LIMIT_BREACHED, breach.value().getKind());
    assertEquals("2026-11", breach.value().getPeriod(), "the month of the usage, open by the org's watermark");
    assertEquals(Instant.parse("2026-11-10T10:00:00Z"), breach.getRecordTime(), "judged at the usage's event time");
  }

  @Test
  void shouldAnnounceABreachedBudgetSwitchedFromHardToSoftAndBackAndJudgeEachMonthApart() {
    fx.putBudget(budget(null, 1_500L, true), "2026-10-01T00:00:00Z");
    fx.send(event("key-2", "2026-10-31T23:50:00Z", 400));
    assertTrue(fx.limitEvents.isEmpty(), "October: $0.0012 of $0.0015");
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 600));
    assertEquals(400, Totals.totalTokens(fx.orgMonth(ORG, "2026-10").getTotals()));
    assertEquals(600, Totals.totalTokens(fx.orgMonth(ORG, "2026-11").getTotals()), "November starts from zero");
    LimitEvent hard = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.LIMIT_BREACHED, hard.getKind());
    assertTrue(hard.getHardLimit());

    fx.putBudget(budget(null, 1_500L, false), "2026-11-10T11:00:00Z");
    LimitEvent soft = fx.limitEvents.readValue();
    assertEquals(LimitEventKind.LIMIT_BREACHED, soft.getKind(), "alert-service reinstates the org on this");
    assertFalse(soft.getHardLimit());
    fx.putBudget(budget(null, 1_500L, true), "2026-11-10T12:00:00Z");
    assertTrue(fx.limitEvents.readValue().getHardLimit());
    assertTrue(fx.limitEvents.isEmpty());
  }

  @Test
  void shouldJudgeKeyRulesAgainstTheKeyAndOrgRulesAgainstTheBudgetOnly() {
    fx.putKey(key("key-1", 1_000L, false), "2026-11-01T00:00:00Z");
    fx.putRule(rule("rule-key-50", "key-1", 50), "2026-11-01T00:00:00Z");
    fx.putBudget(budget(10_000L, null, false), "2026-11-01T00:00:00Z");
    fx.putRule(orgRule("rule-org-5", 5), "2026-11-01T00:00:00Z");

    fx.send(event("key-1", "2026-11-10T10:00:00Z", 600));

    List<TestRecord<String, LimitEvent>> events = fx.limitEvents.readRecordsToList();
    assertEquals(2, events.size(), events.toString());
    LimitEvent keyEvent = events.stream().map(TestRecord::value).filter(e -> e.getScope() == LimitScope.KEY)
        .findFirst().orElseThrow();
    LimitEvent orgEvent = events.stream().map(TestRecord::value).filter(e -> e.getScope() == LimitScope.ORG)
        .findFirst().orElseThrow();
    assertEquals("rule-key-50", keyEvent.getRuleId());
    assertEquals("key-1", keyEvent.getApiKeyId());
    assertEquals(60.0, keyEvent.getPercent());
    assertEquals("rule-org-5", orgEvent.getRuleId());
    assertEquals(6.0, orgEvent.getPercent());
  }

  @Test
  void shouldFireAnOrgRuleCreatedAfterUsagePassedItsThresholdAndForgetItOnceDeleted() {
    fx.putBudget(budget(1_000L, 3_000L, false), "2026-11-01T00:00:00Z");
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 900));
    fx.putRule(orgRule("rule-org-80", 80), "2026-11-10T11:00:00Z");

    List<LimitEvent> crossed = fx.limitEvents.readValuesToList();
    assertEquals(2, crossed.size(), "80% of the tokens and 90% of the cost: " + crossed);
    assertEquals(List.of(LimitUnit.TOKENS, LimitUnit.COST), crossed.stream().map(LimitEvent::getLimitUnit).toList());

    fx.rules.pipeInput("rule-org-80", null, java.time.Instant.parse("2026-11-10T12:00:00Z"));
    fx.send(event("key-1", "2026-11-10T13:00:00Z", 200));
    List<LimitEvent> after = fx.limitEvents.readValuesToList();
    assertEquals(1, after.size(), "only the soft breach; the deleted rule is not judged: " + after);
    assertEquals(LimitEventKind.LIMIT_BREACHED, after.get(0).getKind());
  }
}
