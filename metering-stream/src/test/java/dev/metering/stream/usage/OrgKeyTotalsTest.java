package dev.metering.stream.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

/** The org task's per-key totals laid out by org: the same numbers as the key task's buckets, and only as long as those. */
class OrgKeyTotalsTest {

  private final MeteringFixture fx = new MeteringFixture(Map.of(
      "METERING_LATE_GRACE", "PT1H", "METERING_HOURLY_RETENTION", "P2D", "METERING_DAILY_RETENTION", "P15D"));

  @AfterEach
  void close() {
    fx.close();
  }

  @Test
  void shouldHoldEveryKeysHourAndDayOfItsOrgAsTheKeyStoresDo() {
    // org ids that are prefixes of each other and ids with the separator characters in them
    List<String> orgs = List.of("o", "o|x", "o1", "p");
    List<String> keys = List.of("k", "k|1", "k1", "kä", "k\uD83D\uDE00", "z");
    Random random = new Random(7);
    // 40 hours: within the hourly retention, so the key stores still hold every bucket
    Instant start = Instant.parse("2026-11-20T00:00:00Z");
    Map<String, String> orgOf = new HashMap<>();
    for (int i = 0; i < 600; i++) {
      String key = keys.get(random.nextInt(keys.size())) + "-" + random.nextInt(3);
      String org = orgOf.computeIfAbsent(key, k -> orgs.get(random.nextInt(orgs.size())));
      UsageEvent event = MeteringFixture.event(key, start.plusSeconds(i * 240L + random.nextInt(240)),
          1 + random.nextInt(10_000));
      event.setOrgId(org);
      event.setOutputTokens(random.nextInt(500));
      fx.send(event);
    }

    Map<String, UsageTotals> expected = new TreeMap<>();
    Map<String, UsageTotals> byKeyStores = new TreeMap<>();
    readKeyBuckets(KeyUsageProcessor.HOURLY_STORE, true, orgOf, byKeyStores);
    readKeyBuckets(KeyUsageProcessor.DAILY_STORE, false, orgOf, byKeyStores);
    byKeyStores.forEach((k, v) -> expected.put(k, withoutModels(v)));
    assertEquals(expected, entries(), "the same totals as the key stores, bucket by bucket, and nothing else");
  }

  @Test
  void shouldDeleteBucketsOnceStreamTimeLeavesTheirRetention() {
    fx.send(MeteringFixture.event("key-1", "2026-11-01T10:00:00Z", 100));
    String oldHour = OrgKeyTotals.prefix(true, Instant.parse("2026-11-01T10:00:00Z").toEpochMilli(), MeteringFixture.ORG) + "key-1";
    String oldDay = OrgKeyTotals.prefix(false, Instant.parse("2026-11-01T00:00:00Z").toEpochMilli(), MeteringFixture.ORG) + "key-1";

    fx.send(MeteringFixture.event("key-1", "2026-11-03T12:00:00Z", 100));
    assertFalse(entries().containsKey(oldHour), "an hour more than 2 days behind stream time is gone");
    assertTrue(entries().containsKey(oldDay), "its day is kept for 15 days");

    fx.send(MeteringFixture.event("key-1", "2026-11-16T12:00:00Z", 100));
    assertFalse(entries().containsKey(oldDay), "a day more than 15 days behind stream time is gone");
    assertEquals(3, entries().size(), "the 3rd's day and the 16th's hour and day stay: " + entries().keySet());
  }

  @Test
  void shouldKeepABucketASlowerPartitionCanStillAddToInABackfill() {
    Map<String, String> env = Map.of("METERING_LATE_GRACE", "PT1H", "METERING_HOURLY_RETENTION", "P2D",
        "METERING_DAILY_RETENTION", "P15D");
    try (MeteringFixture twoPartitions = new MeteringFixture(env, 2)) {
      // partition 0 races 20 days ahead; partition 1 has announced only the 1st
      twoPartitions.orgPath.pipeInput(SourceWatermarks.markerKey(1, Instant.parse("2026-11-01T09:00:00Z").toEpochMilli()),
          null, Instant.parse("2026-11-01T09:00:00Z"));
      twoPartitions.send(MeteringFixture.event("key-1", "2026-11-01T10:00:00Z", 100));
      twoPartitions.send(MeteringFixture.event("key-1", "2026-11-21T10:00:00Z", 100));

      // partition 1's usage of the 1st still counts in its hour and day
      UsageEvent slower = MeteringFixture.event("key-2", "2026-11-01T10:30:00Z", 7);
      twoPartitions.orgPath.pipeInput(MeteringFixture.ORG, slower, Instant.ofEpochMilli(slower.getTimestamp()));
      String hour = OrgKeyTotals.prefix(true, Instant.parse("2026-11-01T10:00:00Z").toEpochMilli(), MeteringFixture.ORG);
      assertEquals(7, entries(twoPartitions).get(hour + "key-2").getInputTokens(), "kept while partition 1 can add to it");
      assertEquals(100, entries(twoPartitions).get(hour + "key-1").getInputTokens(),
          "an hour 20 days behind this task's stream time, kept while partition 1 can still add to it");

      // once partition 1 is past it too, by more than the retention, it goes
      twoPartitions.orgPath.pipeInput(SourceWatermarks.markerKey(1, Instant.parse("2026-11-21T10:00:00Z").toEpochMilli()),
          null, Instant.parse("2026-11-21T10:00:00Z"));
      assertFalse(entries(twoPartitions).containsKey(hour + "key-2"));
      assertFalse(entries(twoPartitions).containsKey(hour + "key-1"));
    }
  }

  @Test
  void aTaskThatStartedWithThemHoldsThemFromTheStart() {
    fx.send(MeteringFixture.event("key-1", "2026-11-01T10:00:00Z", 100));
    KeyValueStore<String, Long> progress = fx.driver.getKeyValueStore(Progress.ORG_STORE);
    assertEquals(Long.MIN_VALUE, progress.get(OrgKeyTotals.SINCE));
  }

  private void readKeyBuckets(String store, boolean hourly, Map<String, String> orgOf, Map<String, UsageTotals> into) {
    WindowStore<String, UsageTotals> windows = fx.driver.getWindowStore(store);
    orgOf.forEach((key, org) -> {
      try (WindowStoreIterator<UsageTotals> buckets = windows.fetch(key, Instant.EPOCH, Instant.parse("2027-01-01T00:00:00Z"))) {
        while (buckets.hasNext()) {
          KeyValue<Long, UsageTotals> bucket = buckets.next();
          into.put(OrgKeyTotals.prefix(hourly, bucket.key, org) + key, bucket.value);
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
