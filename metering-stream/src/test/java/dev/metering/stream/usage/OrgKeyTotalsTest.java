package dev.metering.stream.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.records.UsageEvent;
import dev.metering.records.state.UsageTotals;
import dev.metering.stream.MeteringFixture;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The org task's per-key daily totals laid out by org: the same numbers as the key task's days, kept while they can change and for their retention. */
class OrgKeyTotalsTest {

  private final MeteringFixture fx = new MeteringFixture(Map.of(
      "METERING_LATE_GRACE", "PT1H", "METERING_HOURLY_RETENTION", "P2D", "METERING_DAILY_RETENTION", "P15D"));

  @AfterEach
  void close() {
    fx.close();
  }

  @Test
  void shouldHoldEveryKeysDayInItsOrgAsTheKeyStoreDoes() {
    // org ids that are prefixes of each other and ids with the separator characters in them
    List<String> orgs = List.of("o", "o|x", "o1", "p");
    List<String> keys = List.of("k", "k|1", "k1", "kä", "k\uD83D\uDE00", "z");
    Random random = new Random(7);
    Instant start = Instant.parse("2026-11-20T00:00:00Z");
    Map<String, String> orgOf = new HashMap<>();
    for (int i = 0; i < 600; i++) {
      String key = keys.get(random.nextInt(keys.size())) + "-" + random.nextInt(3);
      String org = orgOf.computeIfAbsent(key, k -> orgs.get(random.nextInt(orgs.size())));
      UsageEvent event = MeteringFixture.event(key, start.plusSeconds(i * 1200L + random.nextInt(1200)),
          1 + random.nextInt(10_000));
      event.setOrgId(org);
      event.setOutputTokens(random.nextInt(500));
      fx.send(event);
    }

    Map<String, UsageTotals> expected = new TreeMap<>();
    Map<String, UsageTotals> byKeyStores = new TreeMap<>();
    readKeyDays(orgOf, byKeyStores);
    byKeyStores.forEach((k, v) -> expected.put(k, withoutModels(v)));
    assertEquals(expected, entries(), "the same totals as the key store, day by day, and nothing else");
  }

  @Test
  void shouldDeleteDaysOnceEveryPartitionIsPastTheirRetention() {
    fx.send(MeteringFixture.event("key-1", "2026-11-01T10:00:00Z", 100));
    String oldDay = day("2026-11-01") + "key-1";

    fx.send(MeteringFixture.event("key-1", "2026-11-03T12:00:00Z", 100));
    assertTrue(entries().containsKey(oldDay), "a day is kept for 15 days");

    fx.send(MeteringFixture.event("key-1", "2026-11-16T12:00:00Z", 100));
    assertFalse(entries().containsKey(oldDay), "a day more than 15 days behind is gone");
    assertEquals(List.of(day("2026-11-03") + "key-1", day("2026-11-16") + "key-1"), List.copyOf(entries().keySet()));
  }

  @Test
  void shouldKeepADayASlowerPartitionCanStillAddToInABackfill() {
    Map<String, String> env = Map.of("METERING_LATE_GRACE", "PT1H", "METERING_HOURLY_RETENTION", "P2D",
        "METERING_DAILY_RETENTION", "P15D");
    try (MeteringFixture twoPartitions = new MeteringFixture(env, 2)) {
      // partition 0 races 20 days ahead; partition 1 has announced only the 1st
      twoPartitions.orgPath.pipeInput(SourceWatermarks.markerKey(1, Instant.parse("2026-11-01T09:00:00Z").toEpochMilli()),
          null, Instant.parse("2026-11-01T09:00:00Z"));
      twoPartitions.send(MeteringFixture.event("key-1", "2026-11-01T10:00:00Z", 100));
      twoPartitions.send(MeteringFixture.event("key-1", "2026-11-21T10:00:00Z", 100));

      // partition 1's usage of the 1st still counts in its day
      UsageEvent slower = MeteringFixture.event("key-2", "2026-11-01T10:30:00Z", 7);
      twoPartitions.orgPath.pipeInput(MeteringFixture.ORG, slower, Instant.ofEpochMilli(slower.getTimestamp()));
      String first = day("2026-11-01");
      assertEquals(7, entries(twoPartitions).get(first + "key-2").getInputTokens(), "kept while partition 1 can add to it");
      assertEquals(100, entries(twoPartitions).get(first + "key-1").getInputTokens(),
          "a day 20 days behind this task's stream time, kept while partition 1 can still add to it");

      // once partition 1 is past it too, by more than the retention, it goes
      twoPartitions.orgPath.pipeInput(SourceWatermarks.markerKey(1, Instant.parse("2026-11-21T10:00:00Z").toEpochMilli()),
          null, Instant.parse("2026-11-21T10:00:00Z"));
      assertFalse(entries(twoPartitions).containsKey(first + "key-2"));
      assertFalse(entries(twoPartitions).containsKey(first + "key-1"));
    }
  }

  /**
   * Queries keep a day rendered once it is sealed: no partition can accept usage for it any more.
   * An idle partition is left out of the spike judgement, but it still accepts usage down to its
   * own watermark minus the grace, so it holds sealing back at that watermark.
   */
  @Test
  void aDayIsSealedOnlyOnceNoPartitionIdleOrNotCanAcceptUsageForIt() {
    Map<String, String> env = Map.of("METERING_LATE_GRACE", "PT1H", "METERING_HOURLY_RETENTION", "P2D",
        "METERING_DAILY_RETENTION", "P15D");
    try (MeteringFixture twoPartitions = new MeteringFixture(env, 2)) {
      KeyValueStore<String, Long> progress = twoPartitions.driver.getKeyValueStore(Progress.ORG_STORE);
      twoPartitions.send(MeteringFixture.event("key-1", "2026-11-01T10:00:00Z", 100));
      assertNull(progress.get(SourceWatermarks.SEALED_THROUGH), "partition 1 has not said where it is");

      announce(twoPartitions, 1, "2026-11-02T05:00:00Z");
      assertEquals(millis("2026-11-01T09:00:00Z"), progress.get(SourceWatermarks.SEALED_THROUGH),
          "partition 0 can still accept usage from 09:00 on the 1st");

      twoPartitions.send(MeteringFixture.event("key-1", "2026-11-02T03:00:00Z", 100));
      assertEquals(millis("2026-11-02T02:00:00Z"), progress.get(SourceWatermarks.SEALED_THROUGH), "the 1st is sealed");

      // partition 1 goes idle at 05:00 on the 2nd; partition 0 races on to the 5th
      twoPartitions.orgPath.pipeInput(SourceWatermarks.markerKey(1, SourceWatermarks.IDLE), null,
          Instant.parse("2026-11-02T05:00:00Z"));
      twoPartitions.send(MeteringFixture.event("key-1", "2026-11-05T00:00:00Z", 100));
      assertEquals(millis("2026-11-02T04:00:00Z"), progress.get(SourceWatermarks.SEALED_THROUGH),
          "the idle partition can still accept usage from 04:00 on the 2nd, so the 2nd is not sealed");

      announce(twoPartitions, 1, "2026-11-05T02:00:00Z");
      assertEquals(millis("2026-11-04T23:00:00Z"), progress.get(SourceWatermarks.SEALED_THROUGH));
    }
  }

  private static void announce(MeteringFixture fixture, int partition, String watermark) {
    fixture.orgPath.pipeInput(SourceWatermarks.markerKey(partition, millis(watermark)), null, Instant.parse(watermark));
  }

  private static long millis(String instant) {
    return Instant.parse(instant).toEpochMilli();
  }

  @Test
  void aTaskThatStartedWithThemHoldsThemFromTheStart() {
    fx.send(MeteringFixture.event("key-1", "2026-11-01T10:00:00Z", 100));
    KeyValueStore<String, Long> progress = fx.driver.getKeyValueStore(Progress.ORG_STORE);
    assertEquals(Long.MIN_VALUE, progress.get(OrgKeyTotals.SINCE));
  }

  private static String day(String date) {
    return OrgKeyTotals.prefix(Instant.parse(date + "T00:00:00Z").toEpochMilli(), MeteringFixture.ORG);
  }

  private void readKeyDays(Map<String, String> orgOf, Map<String, UsageTotals> into) {
    WindowStore<String, UsageTotals> windows = fx.driver.getWindowStore(KeyUsageProcessor.DAILY_STORE);
    orgOf.forEach((key, org) -> {
      try (WindowStoreIterator<UsageTotals> buckets = windows.fetch(key, Instant.EPOCH, Instant.parse("2027-01-01T00:00:00Z"))) {
        while (buckets.hasNext()) {
          KeyValue<Long, UsageTotals> bucket = buckets.next();
          into.put(OrgKeyTotals.prefix(bucket.key, org) + key, bucket.value);
        }
      }
    });
  }

  private Map<String, UsageTotals> entries() {
    return entries(fx);
  }

  private static Map<String, UsageTotals> entries(MeteringFixture fixture) {
    KeyValueStore<String, UsageTotals> store = fixture.driver.getKeyValueStore(OrgKeyTotals.STORE);
    Map<String, UsageTotals> all = new TreeMap<>();
    try (KeyValueIterator<String, UsageTotals> it = store.all()) {
      it.forEachRemaining(kv -> all.put(kv.key, kv.value));
    }
    return all;
  }

  /** What the store keeps of a bucket: no model breakdown, and no org id (the key has it). */
  private static UsageTotals withoutModels(UsageTotals totals) {
    UsageTotals copy = UsageTotals.newBuilder(totals).build();
    copy.setByModel(new HashMap<>());
    copy.setOrgId("");
    return copy;
  }
}
