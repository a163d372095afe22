package dev.metering.stream.usage;

import static dev.metering.stream.MeteringFixture.event;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.records.UsageEvent;
import dev.metering.records.state.UsageTotals;
import dev.metering.schemas.RecordSerdes;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;
import org.junit.jupiter.api.Test;

class UsageBucketsTest {

  private static final Instant START = Instant.parse("2026-11-01T00:00:00Z");

  private final MockProcessorContext<Object, Object> context = new MockProcessorContext<>();

  private WindowStore<String, UsageTotals> store(String name, Duration size) {
    WindowStore<String, UsageTotals> store = Stores.windowStoreBuilder(
            Stores.inMemoryWindowStore(name, Duration.ofDays(60), size, false),
            Serdes.String(), RecordSerdes.forType(UsageTotals.class))
        .withLoggingDisabled().build();
    store.init(context.getStateStoreContext(), store);
    return store;
  }

  @Test
  void shouldKeepTheDecodedCopiesWithinTheirWeightWhileEveryTotalStaysExact() {
    WindowStore<String, UsageTotals> hourly = store("hourly", Duration.ofHours(1));
    WindowStore<String, UsageTotals> daily = store("daily", Duration.ofDays(1));
    int maxWeight = 40;
    UsageBuckets buckets = new UsageBuckets(hourly, daily, maxWeight, 64);
    Map<String, Long> expectedDays = new HashMap<>();
    Random random = new Random(7);
    for (int i = 0; i < 3_000; i++) {
      // skewed keys, many models, over three days: copies are kept, grow in place and are evicted
      String key = "key-" + (int) Math.pow(random.nextInt(400), 2) / 4_000;
      Instant time = START.plus(Duration.ofMinutes(random.nextInt(3 * 24 * 60)));
      UsageEvent event = event(key, time, 1 + random.nextInt(1_000));
      event.setModel("model-" + random.nextInt(12));
      UsageTotals day = buckets.add(key, event.getOrgId(), new PricedEvent(event, 0, false));

      long dayStart = Periods.dayStart(time.toEpochMilli());
      long expected = expectedDays.merge(key + "@" + dayStart, event.getInputTokens(), Long::sum);
      assertEquals(expected, day.getInputTokens(), "the day's totals after event " + i);
      assertEquals(expected, daily.fetch(key, dayStart).getInputTokens(), "the day in the store after event " + i);
      assertTrue(buckets.decodedWeight() <= maxWeight, "weight " + buckets.decodedWeight() + " after event " + i);
    }
    expectedDays.forEach((keyAndDay, tokens) -> {
      String[] parts = keyAndDay.split("@");
      assertEquals(tokens, buckets.day(parts[0], Long.parseLong(parts[1])).getInputTokens(), keyAndDay);
    });
  }

  @Test
  void shouldKeepNoCopiesWithoutAWeight() {
    UsageBuckets buckets = new UsageBuckets(store("hourly", Duration.ofHours(1)), store("daily", Duration.ofDays(1)),
        0, 64);
    UsageEvent event = event("key-1", START, 100);

    buckets.add("key-1", event.getOrgId(), new PricedEvent(event, 0, false));

    assertEquals(0, buckets.decodedWeight());
    assertEquals(100, buckets.day("key-1", START.toEpochMilli()).getInputTokens());
  }
}
