package dev.metering.stream.usage;

import dev.metering.schemas.UsageLimits;
import static dev.metering.stream.MeteringFixture.event;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.records.UsageEvent;
import dev.metering.records.state.ModelUsage;
import dev.metering.records.state.UsageTotals;
import dev.metering.stream.MeteringFixture;
import dev.metering.stream.ingest.IngestCounters;
import dev.metering.stream.usage.KeyUsageProcessor;
import dev.metering.stream.usage.OrgUsageProcessor;
import dev.metering.stream.usage.Totals;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TotalsTest {

  private final MeteringFixture fx = new MeteringFixture();

  @AfterEach
  void close() {
    fx.close();
  }

  @Test
  void shouldStartABucketFromTheSchemaDefaults() {
    assertEquals(UsageTotals.newBuilder().setOrgId("org-1").setByModel(new java.util.HashMap<>()).build(),
        Totals.empty("org-1"));
  }

  @Test
  void shouldKeepHourlyDailyAndMonthlyTotalsOfEveryTokenKindWithCost() {
    UsageEvent sonnet = event("key-1", "2026-11-10T10:15:00Z", 1_000_000);
    sonnet.setOutputTokens(200_000);
    sonnet.setCacheCreationInputTokens(10_000);
    sonnet.setCacheReadInputTokens(500_000);
    UsageEvent haiku = event("key-1", "2026-11-10T11:30:00Z", 100);
    haiku.setModel("claude-haiku-4-5-20251001");

    fx.send(sonnet);
    fx.send(haiku);

    UsageTotals hour10 = fx.bucket(KeyUsageProcessor.HOURLY_STORE, "key-1", "2026-11-10T10:00:00Z");
    UsageTotals day = fx.bucket(KeyUsageProcessor.DAILY_STORE, "key-1", "2026-11-10T00:00:00Z");
    // sonnet: 1M x $3 + 0.2M x $15 + 0.01M x $3.75 + 0.5M x $0.30 = 3 + 3 + 0.0375 + 0.15 = $6.1875
    assertEquals(6_187_500, hour10.getCostMicros());
    assertEquals(1_710_000, Totals.totalTokens(hour10));
    assertEquals(1, hour10.getRequests());
    // haiku: 100 x $1 per million = 100 micro-dollars
    assertEquals(6_187_600, day.getCostMicros());
    assertEquals(2, day.getRequests());
    assertEquals(1_000_100, day.getInputTokens());
    assertEquals(200_000, day.getOutputTokens());
    assertEquals(10_000, day.getCacheCreationInputTokens());
    assertEquals(500_000, day.getCacheReadInputTokens());
    ModelUsage haikuShare = day.getByModel().get("claude-haiku-4-5-20251001");
    assertEquals(100, haikuShare.getInputTokens());
    assertEquals(100, haikuShare.getCostMicros());
    UsageTotals month = fx.month("key-1", "2026-11").getTotals();
    assertEquals(Totals.totalTokens(day), Totals.totalTokens(month));
    assertEquals(day.getCostMicros(), month.getCostMicros());
    assertEquals(day.getRequests(), month.getRequests());
    assertTrue(month.getByModel().isEmpty(), "the month keeps totals only; reports by model come from the days");
    assertEquals(day.getCostMicros(),
        fx.bucket(OrgUsageProcessor.DAILY_STORE, MeteringFixture.ORG, "2026-11-10T00:00:00Z").getCostMicros());
  }

  @Test
  void shouldPriceUnknownModelsByTheFallbackAndFlagThem() {
    UsageEvent unknown = event("key-1", "2026-11-10T10:00:00Z", 1_000_000);
    unknown.setModel("some-new-model");

    fx.send(unknown);

    UsageTotals day = fx.bucket(KeyUsageProcessor.DAILY_STORE, "key-1", "2026-11-10T00:00:00Z");
    assertEquals(3_000_000, day.getCostMicros());
    assertEquals(1, day.getFallbackPricedRequests());
    assertEquals(1, day.getByModel().get("some-new-model").getFallbackPricedRequests());
  }

  @Test
  void shouldSumModelsBeyondTheBucketLimitUnderOneOverflowEntry() {
    // issue 13: thousands of invented model names on one key must not grow a stored value without bound
    int models = 1_000;
    for (int i = 0; i < models; i++) {
      UsageEvent event = event("key-1", "2026-11-10T10:15:00Z", 10);
      event.setModel("model-" + i);
      fx.send(event);
    }

    for (String store : List.of(KeyUsageProcessor.HOURLY_STORE, OrgUsageProcessor.HOURLY_STORE)) {
      String id = store.equals(KeyUsageProcessor.HOURLY_STORE) ? "key-1" : MeteringFixture.ORG;
      UsageTotals hour = fx.bucket(store, id, "2026-11-10T10:00:00Z");
      assertEquals(65, hour.getByModel().size(), "64 named models and the overflow entry");
      ModelUsage other = hour.getByModel().get(UsageLimits.OTHER_MODELS);
      assertEquals(models - 64, other.getRequests());
      assertEquals((models - 64) * 10L, other.getInputTokens());
      assertEquals(models * 10L, hour.getInputTokens(), "the bucket's totals count every model");
      assertEquals(models, hour.getByModel().values().stream().mapToLong(ModelUsage::getRequests).sum());
    }
    assertEquals(models, fx.counter(IngestCounters.ACCEPTED));
  }

  @Test
  void shouldStopATotalAtTheLargestLongRatherThanWrapIt() {
    // calls of 10^9 tokens a kind at $1000 per million cost 4 x 10^12 micro-dollars each: a few
    // million of them wrapped a month's cost to a negative total, which read as far under the limit
    UsageTotals nearlyFull = Totals.empty("org-1");
    nearlyFull.setInputTokens(Long.MAX_VALUE - 5);
    nearlyFull.setCostMicros(Long.MAX_VALUE - 5);
    nearlyFull.setRequests(3);
    UsageEvent call = event("key-1", "2026-11-10T10:15:00Z", 1_000_000);

    PricedEvent priced = PricedEvent.price(call, dev.metering.stream.pricing.PriceBook.bundled());

    UsageTotals after = Totals.addWithModel(Totals.add(nearlyFull, priced), priced, 64);

    assertEquals(Long.MAX_VALUE, after.getInputTokens());
    assertEquals(Long.MAX_VALUE, after.getCostMicros());
    assertEquals(Long.MAX_VALUE, Totals.totalTokens(after));
    assertEquals(5, after.getRequests());
    assertEquals(1_000_000, after.getByModel().get(call.getModel()).getInputTokens(), "the model's share, once");
  }

  @Test
  void shouldKeepOrgTotalsAcrossKeys() {
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 10));
    fx.send(event("key-2", "2026-11-10T10:30:00Z", 20));
    UsageEvent otherOrg = event("key-3", "2026-11-10T10:30:00Z", 40);
    otherOrg.setOrgId("org-2");
    fx.send(otherOrg);

    assertEquals(30, Totals.totalTokens(fx.bucket(OrgUsageProcessor.HOURLY_STORE, MeteringFixture.ORG, "2026-11-10T10:00:00Z")));
    assertEquals(30, Totals.totalTokens(fx.bucket(OrgUsageProcessor.DAILY_STORE, MeteringFixture.ORG, "2026-11-10T00:00:00Z")));
    assertEquals(40, Totals.totalTokens(fx.bucket(OrgUsageProcessor.DAILY_STORE, "org-2", "2026-11-10T00:00:00Z")));
    assertNull(fx.bucket(OrgUsageProcessor.DAILY_STORE, MeteringFixture.ORG, "2026-11-11T00:00:00Z"));
  }

  @Test
  void shouldLeaveEveryTotalUnchangedWhenTheSameStreamIsFedTwice() {
    List<UsageEvent> stream = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      stream.add(event("key-" + (i % 3), java.time.Instant.parse("2026-11-10T00:00:00Z").plusSeconds(i * 600L), i));
    }
    stream.forEach(fx::send);
    UsageTotals keyDay = fx.bucket(KeyUsageProcessor.DAILY_STORE, "key-1", "2026-11-10T00:00:00Z");
    UsageTotals orgDay = fx.bucket(OrgUsageProcessor.DAILY_STORE, MeteringFixture.ORG, "2026-11-10T00:00:00Z");

    stream.forEach(fx::send);

    assertEquals(keyDay, fx.bucket(KeyUsageProcessor.DAILY_STORE, "key-1", "2026-11-10T00:00:00Z"));
    assertEquals(orgDay, fx.bucket(OrgUsageProcessor.DAILY_STORE, MeteringFixture.ORG, "2026-11-10T00:00:00Z"));
    assertEquals(50, fx.counter(IngestCounters.ACCEPTED));
    assertEquals(50, fx.counter(IngestCounters.DUPLICATE));
  }
}
