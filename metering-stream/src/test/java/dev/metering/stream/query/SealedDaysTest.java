package dev.metering.stream.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SealedDaysTest {

  private static final ObjectMapper JSON = Json.mapper();

  private static SealedDays.Day day(List<String> keys) {
    return SealedDays.Day.of(keys, keys.stream().map(key -> result(key).getBytes(StandardCharsets.UTF_8)).toList());
  }

  private static String result(String key) {
    return "{\"api_key_id\":\"" + key + "\"}";
  }

  private static String array(List<String> keys) {
    return "[" + String.join(",", keys.stream().map(SealedDaysTest::result).toList()) + "]";
  }

  @Test
  void aDaysResultsFromOneKeyToAnotherAreThoseKeysResultsAsAJsonArray() throws Exception {
    SealedDays.Day day = day(List.of("a", "b", "c"));

    assertEquals(array(List.of("b", "c")), JSON.writeValueAsString(day.results(1, 3)));
    assertEquals(array(List.of("a")), JSON.writeValueAsString(day.results(0, 1)));
    assertEquals("[]", JSON.writeValueAsString(day.results(2, 2)));
  }

  @Test
  void resultsLargerThanTheWritersBufferAreWrittenWholeWhereTheValueGoes() throws Exception {
    List<String> keys = IntStream.range(0, 2_000).mapToObj(i -> String.format("key-%05d", i)).toList();
    SealedDays.Day day = day(keys);
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("before", 1);
    document.put("results", day.results(1, 1_999));
    document.put("after", 2);

    assertEquals("{\"before\":1,\"results\":" + array(keys.subList(1, 1_999)) + ",\"after\":2}",
        JSON.writeValueAsString(document));
    assertEquals("{\"before\":1,\"results\":" + array(keys.subList(1, 1_999)) + ",\"after\":2}",
        new String(JSON.writeValueAsBytes(document), StandardCharsets.UTF_8));
  }

  @Test
  void theKeysOfARunOfDaysAreMergedOnceAndKeptUntilMemoryRunsShort() {
    SealedDays kept = new SealedDays(1 << 20);
    AtomicInteger merged = new AtomicInteger();
    List<String> keys = List.of("a", "b");

    List<String> first = kept.keys("org-1", 0, 86_400_000L, () -> {
      merged.incrementAndGet();
      return keys;
    });
    List<String> again = kept.keys("org-1", 0, 86_400_000L, () -> {
      merged.incrementAndGet();
      return List.of("other");
    });
    kept.keys("org-1", 0, 2 * 86_400_000L, () -> {
      merged.incrementAndGet();
      return keys;
    });

    assertSame(keys, first);
    assertSame(keys, again, "the same run of days: kept");
    assertEquals(2, merged.get(), "another run of days is merged on its own");

    SealedDays none = new SealedDays(64);
    List<List<String>> merges = new ArrayList<>();
    none.keys("org-1", 0, 0, () -> {
      merges.add(keys);
      return keys;
    });
    none.keys("org-1", 0, 0, () -> {
      merges.add(keys);
      return keys;
    });
    assertEquals(2, merges.size(), "keys larger than the budget are not kept");
  }
}
