package dev.metering.stream.query;

import com.fasterxml.jackson.databind.util.RawValue;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Org days that can never change again, rendered once: each key's result of the day as the JSON an
 * org report by key shows, kept until memory runs short (least recently used first), not for a
 * while. A day is sealed when no usage-events partition can accept usage for it any more (see
 * {@code SourceWatermarks#sealedThrough}); its content is then the same on every instance and after
 * any restore, so a kept day is never wrong, only perhaps evicted. Only reads of an active task
 * fill it: a standby may have applied one store's changelog further than another's.
 */
final class SealedDays {

  /**
   * One org's day: its keys in report order and each key's rendered result.
   *
   * @param keys api key ids in {@link ReportAssembly#KEY_ORDER}
   * @param results each key's result, a Jackson {@code RawValue} of its JSON, in the same order
   * @param bytes about how much memory the day takes
   */
  record Day(List<String> keys, List<Object> results, long bytes) {

    /** A day of {@code keys} and their results as JSON (UTF-8). */
    static Day of(List<String> keys, List<byte[]> json) {
      long bytes = 64;
      List<Object> results = new ArrayList<>(json.size());
      for (int i = 0; i < keys.size(); i++) {
        bytes += 2L * keys.get(i).length() + json.get(i).length + 96;
        results.add(new RawValue(new RawJson(json.get(i))));
      }
      return new Day(List.copyOf(keys), List.copyOf(results), bytes);
    }
  }

  private record DayKey(String orgId, long dayStart) {
  }

  private final long budgetBytes;
  private final Map<DayKey, Day> days = new LinkedHashMap<>(64, 0.75f, true);
  private long bytes;
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();

  /** @param budgetBytes memory for rendered days; 0 keeps none */
  SealedDays(long budgetBytes) {
    this.budgetBytes = budgetBytes;
  }

  boolean enabled() {
    return budgetBytes > 0;
  }

  /** The org's day if it is kept; counts a hit or a miss. */
  synchronized Day get(String orgId, long dayStart) {
    Day day = days.get(new DayKey(orgId, dayStart));
    (day == null ? misses : hits).incrementAndGet();
    return day;
  }

  /** Keeps a sealed day, evicting the least recently used ones beyond the budget; a day larger than the budget is not kept. */
  synchronized void put(String orgId, long dayStart, Day day) {
    long size = day.bytes();
    if (size > budgetBytes) {
      return;
    }
    Day previous = days.put(new DayKey(orgId, dayStart), day);
    bytes += size - (previous == null ? 0 : previous.bytes());
    var eldest = days.entrySet().iterator();
    while (bytes > budgetBytes && eldest.hasNext()) {
      bytes -= eldest.next().getValue().bytes();
      eldest.remove();
    }
  }

  long hits() {
    return hits.get();
  }

  long misses() {
    return misses.get();
  }

  synchronized long bytes() {
    return bytes;
  }
}
