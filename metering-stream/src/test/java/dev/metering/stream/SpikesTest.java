package dev.metering.stream;

import static dev.metering.stream.MeteringFixture.event;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.records.UsageEvent;
import dev.metering.records.UsageSpike;
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
}
