package dev.metering.stream.spikes;

import static dev.metering.stream.MeteringFixture.event;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.records.UsageEvent;
import dev.metering.records.UsageSpike;
import dev.metering.stream.MeteringFixture;
import dev.metering.stream.usage.SourceWatermarks;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SpikesTest {

  private final MeteringFixture fx = new MeteringFixture(Map.of("METERING_SPIKE_MIN_BASELINE_TOKENS", "1000"));

  @AfterEach
  void close() {
    fx.close();
  }

  @Test
  void shouldFireOnceWhenADayExceedsThreeTimesTheSameWeekdayBefore() {
    fx.send(event("key-1", "2026-11-03T10:00:00Z", 1000));

    fx.send(event("key-1", "2026-11-10T09:00:00Z", 3000));
    assertTrue(fx.spikes.isEmpty(), "exactly 3x is not above 3x");
    UsageEvent crossing = event("key-1", "2026-11-10T10:00:00Z", 1);
    fx.send(crossing);
    fx.send(event("key-1", "2026-11-10T11:00:00Z", 5000));

    List<KeyValue<String, UsageSpike>> spikes = fx.spikes.readKeyValuesToList();
    KeyValue<String, UsageSpike> keySpike = spikes.stream().filter(kv -> kv.key.equals("key-1")).findFirst().orElseThrow();
    KeyValue<String, UsageSpike> orgSpike = spikes.stream().filter(kv -> kv.key.equals(MeteringFixture.ORG)).findFirst().orElseThrow();
    assertEquals(2, spikes.size(), "one for the key and one for the org, once each: " + spikes);
    assertEquals("key-1", keySpike.value.getApiKeyId());
    assertEquals("2026-11-10", keySpike.value.getDay());
    assertEquals("2026-11-03", keySpike.value.getBaselineDay());
    assertEquals(3001, keySpike.value.getTokens());
    assertEquals(1000, keySpike.value.getBaselineTokens());
    assertEquals(3.001, keySpike.value.getRatio(), 1e-9);
    assertEquals(crossing.getTimestamp(), keySpike.value.getDetectedAt());
    assertNull(orgSpike.value.getApiKeyId(), "an org-wide spike names no key");
    assertEquals(3001, orgSpike.value.getTokens());
  }

  @Test
  void shouldNotFireWithoutABaselineDay() {
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 1_000_000));

    assertTrue(fx.spikes.isEmpty());
  }

  @Test
  void shouldNotFireOnAZeroBaseline() {
    UsageEvent zero = event("key-1", "2026-11-03T10:00:00Z", 0);
    fx.send(zero);

    fx.send(event("key-1", "2026-11-10T10:00:00Z", 1_000_000));

    assertTrue(fx.spikes.isEmpty());
  }

  @Test
  void shouldNotFireOnABaselineBelowTheMinimum() {
    fx.send(event("key-1", "2026-11-03T10:00:00Z", 999));

    fx.send(event("key-1", "2026-11-10T10:00:00Z", 1_000_000));

    assertTrue(fx.spikes.isEmpty());
  }

  @Test
  void shouldFireAgainOnAnotherDay() {
    fx.send(event("key-1", "2026-11-03T10:00:00Z", 1000));
    fx.send(event("key-1", "2026-11-04T10:00:00Z", 1000));

    fx.send(event("key-1", "2026-11-10T10:00:00Z", 4000));
    fx.send(event("key-1", "2026-11-11T10:00:00Z", 4000));

    List<String> keyDays = fx.spikes.readKeyValuesToList().stream()
        .filter(kv -> kv.key.equals("key-1")).map(kv -> kv.value.getDay()).toList();
    assertEquals(List.of("2026-11-10", "2026-11-11"), keyDays);
  }

  @Test
  void shouldDetectAnOrgSpikeSpreadOverKeysThatDoNotSpikeAlone() {
    fx.send(event("key-1", "2026-11-03T10:00:00Z", 1000));
    fx.send(event("key-2", "2026-11-03T10:00:00Z", 1000));
    // each key triples (not above 3x); a new key pushes the org above 3x of 2000
    fx.send(event("key-1", "2026-11-10T10:00:00Z", 3000));
    fx.send(event("key-2", "2026-11-10T10:00:00Z", 3000));
    fx.send(event("key-3", "2026-11-10T10:00:00Z", 1));

    List<KeyValue<String, UsageSpike>> spikes = fx.spikes.readKeyValuesToList();

    assertEquals(1, spikes.size(), spikes.toString());
    assertEquals(MeteringFixture.ORG, spikes.get(0).key);
    assertEquals(6001, spikes.get(0).value.getTokens());
    assertEquals(2000, spikes.get(0).value.getBaselineTokens());
  }
  @Test
  void shouldJudgeAnOrgDayOnlyAgainstABaselineEveryPartitionHasFinished() {
    // issue 13: during a catch-up a slower partition was still filling day D - 7 when D was judged
    try (MeteringFixture twoPartitions = new MeteringFixture(Map.of("METERING_SPIKE_MIN_BASELINE_TOKENS", "1000"), 2)) {
      twoPartitions.send(event("key-1", "2026-11-03T10:00:00Z", 1000));
      twoPartitions.send(event("key-1", "2026-11-10T10:00:00Z", 3500));
      assertTrue(orgSpikes(twoPartitions).isEmpty(), "partition 1 has not told how far it is");

      // partition 1, behind, still adds to the baseline day, then passes its end plus the grace
      UsageEvent slower = event("key-2", "2026-11-03T11:00:00Z", 500);
      twoPartitions.orgPath.pipeInput(MeteringFixture.ORG, slower, Instant.ofEpochMilli(slower.getTimestamp()));
      announce(twoPartitions, 1, "2026-11-06T23:59:59Z");
      assertTrue(orgSpikes(twoPartitions).isEmpty(), "the baseline day is not final yet");
      announce(twoPartitions, 1, "2026-11-07T00:00:00Z");

      assertTrue(orgSpikes(twoPartitions).isEmpty(), "3500 is not above 3 x the final 1500");
      twoPartitions.send(event("key-1", "2026-11-10T11:00:00Z", 1001));
      List<UsageSpike> spikes = orgSpikes(twoPartitions);
      assertEquals(1, spikes.size(), spikes.toString());
      assertEquals(4501, spikes.get(0).getTokens());
      assertEquals(1500, spikes.get(0).getBaselineTokens());
    }
  }

  @Test
  void shouldJudgeAWaitingOrgDayOnceItsBaselineBecomesFinal() {
    try (MeteringFixture twoPartitions = new MeteringFixture(Map.of("METERING_SPIKE_MIN_BASELINE_TOKENS", "1000"), 2)) {
      twoPartitions.send(event("key-1", "2026-11-03T10:00:00Z", 1000));
      twoPartitions.send(event("key-1", "2026-11-10T10:00:00Z", 3500));
      assertTrue(orgSpikes(twoPartitions).isEmpty());

      announce(twoPartitions, 1, "2026-11-12T00:00:00Z");

      List<UsageSpike> spikes = orgSpikes(twoPartitions);
      assertEquals(1, spikes.size(), spikes.toString());
      assertEquals("2026-11-10", spikes.get(0).getDay());
      assertEquals(3500, spikes.get(0).getTokens());
    }
  }

  @Test
  void shouldNotWaitForAPartitionThatFellIdle() {
    try (MeteringFixture twoPartitions = new MeteringFixture(Map.of("METERING_SPIKE_MIN_BASELINE_TOKENS", "1000"), 2)) {
      twoPartitions.orgPath.pipeInput(SourceWatermarks.markerKey(1, SourceWatermarks.IDLE), null,
          Instant.parse("2026-11-01T00:00:00Z"));
      twoPartitions.send(event("key-1", "2026-11-03T10:00:00Z", 1000));

      twoPartitions.send(event("key-1", "2026-11-10T10:00:00Z", 3500));

      assertEquals(1, orgSpikes(twoPartitions).size());
    }
  }

  private static void announce(MeteringFixture fixture, int partition, String watermark) {
    Instant time = Instant.parse(watermark);
    fixture.orgPath.pipeInput(SourceWatermarks.markerKey(partition, time.toEpochMilli()), null, time);
  }

  private static List<UsageSpike> orgSpikes(MeteringFixture fixture) {
    return fixture.spikes.readKeyValuesToList().stream().filter(kv -> kv.key.equals(MeteringFixture.ORG))
        .map(kv -> kv.value).toList();
  }
}
