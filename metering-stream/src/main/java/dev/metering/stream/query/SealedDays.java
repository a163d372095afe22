package dev.metering.stream.query;

import com.fasterxml.jackson.databind.util.RawValue;
import java.io.ByteArrayOutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Org days that can never change again, rendered once: each key's result of the day as the JSON an
 * org report by key shows, kept until memory runs short (least recently used first), not for a
 * while. A day is sealed when no usage-events partition can accept usage for it any more (see
 * {@code SourceWatermarks#sealedThrough}); its content is then the same on every instance and after
 * any restore, so a kept day is never wrong, only perhaps evicted. Only reads of an active task
 * fill it: a standby may have applied one store's changelog further than another's.
 */
final class SealedDays {

  /** What the cache keeps: a day, or the keys of a run of days. */
  private sealed interface Kept permits Day, Keys {
    long bytes();
  }

  /**
   * One org's day: its keys in report order and their results as one piece of JSON, so a page
   * copies its part of the day in one go.
   *
   * @param keys api key ids in {@link ReportAssembly#KEY_ORDER}
   * @param json each key's result as JSON (UTF-8), in the same order, separated by commas
   * @param ends where each key's result ends in {@code json}
   * @param bytes about how much memory the day takes
   */
  record Day(List<String> keys, byte[] json, int[] ends, long bytes) implements Kept {

    /** A day of {@code keys} and their results as JSON (UTF-8). */
    static Day of(List<String> keys, List<byte[]> results) {
      ByteArrayOutputStream json = new ByteArrayOutputStream();
      int[] ends = new int[results.size()];
      long bytes = 64;
      for (int i = 0; i < results.size(); i++) {
        if (i > 0) {
          json.write(',');
        }
        json.writeBytes(results.get(i));
        ends[i] = json.size();
        bytes += 2L * keys.get(i).length() + 48 + results.get(i).length + 5;
      }
      return new Day(List.copyOf(keys), json.toByteArray(), ends, bytes);
    }

    /** The results of keys {@code from} (included) to {@code to} (excluded) as a JSON array, for Jackson to write as it is. */
    Object results(int from, int to) {
      return from == to ? List.of() : new RawValue(new RawJson(json, from == 0 ? 0 : ends[from - 1] + 1, ends[to - 1]));
    }
  }

  /** The keys of an org's sealed days from one day to another, each once, in report order. */
  private record Keys(List<String> keys, long bytes) implements Kept {
  }

  private record DayKey(String orgId, long dayStart) {
  }

  private record SpanKey(String orgId, long firstDay, long lastDay) {
  }

  private final long budgetBytes;
  private final Map<Object, Kept> kept = new LinkedHashMap<>(64, 0.75f, true);
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
    Day day = (Day) kept.get(new DayKey(orgId, dayStart));
    (day == null ? misses : hits).incrementAndGet();
    return day;
  }

  /** Keeps a sealed day, evicting the least recently used entries beyond the budget; a day larger than the budget is not kept. */
  synchronized void put(String orgId, long dayStart, Day day) {
    keep(new DayKey(orgId, dayStart), day);
  }

  /**
   * The keys of the org's sealed days from {@code firstDay} to {@code lastDay} (both included), each
   * once and in report order: kept, or {@code union} of their days' keys, then kept. A page walks
   * them as one list instead of walking each of those days (a comparison per day per key taken).
   */
  List<String> keys(String orgId, long firstDay, long lastDay, Supplier<List<String>> union) {
    SpanKey key = new SpanKey(orgId, firstDay, lastDay);
    synchronized (this) {
      Kept keys = kept.get(key);
      if (keys != null) {
        return ((Keys) keys).keys();
      }
    }
    // the days are sealed: whichever caller computes them first computes the same keys
    List<String> keys = union.get();
    long bytes = 64;
    for (String id : keys) {
      bytes += 2L * id.length() + 56; // the ids too: they outlive the days they came from once those are evicted
    }
    synchronized (this) {
      keep(key, new Keys(keys, bytes));
    }
    return keys;
  }

  private void keep(Object key, Kept entry) {
    long size = entry.bytes();
    if (size > budgetBytes) {
      return;
    }
    Kept previous = kept.put(key, entry);
    bytes += size - (previous == null ? 0 : previous.bytes());
    var eldest = kept.entrySet().iterator();
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
