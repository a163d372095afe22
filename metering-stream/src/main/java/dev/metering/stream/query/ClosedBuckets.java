package dev.metering.stream.query;

import java.time.Clock;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The rendered JSON of org report buckets that can no longer change, so a dashboard asking for the
 * last 31 days by key again reads and renders only the days still open.
 *
 * <p>A bucket is final once it ends at or before every partition's stream time minus the late
 * grace: later events for it are dead-lettered as late. Entries live at most {@link #TTL} (so a
 * bucket leaves with its store's retention) and the least recently used go first when the byte
 * budget is full.
 */
final class ClosedBuckets {

  static final Duration TTL = Duration.ofMinutes(10);

  /** One bucket of one org's report grouped by key. */
  record Key(String orgId, long widthMillis, long start) {
  }

  private record Entry(byte[] json, long cachedAtMillis) {
  }

  private final long budgetBytes;
  private final Clock clock;
  private final Map<Key, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);
  private long bytes;
  private long hits;
  private long misses;

  ClosedBuckets(long budgetBytes, Clock clock) {
    this.budgetBytes = budgetBytes;
    this.clock = clock;
  }

  boolean enabled() {
    return budgetBytes > 0;
  }

  /** The bucket's JSON, or null if it is not here (or no longer fresh enough to trust). */
  synchronized byte[] get(Key key) {
    Entry entry = entries.get(key);
    if (entry != null && clock.millis() - entry.cachedAtMillis() > TTL.toMillis()) {
      remove(key);
      entry = null;
    }
    if (entry == null) {
      misses++;
      return null;
    }
    hits++;
    return entry.json();
  }

  synchronized void put(Key key, byte[] json) {
    if (json.length > budgetBytes) {
      return;
    }
    remove(key);
    entries.put(key, new Entry(json, clock.millis()));
    bytes += json.length;
    for (Iterator<Entry> eldest = entries.values().iterator(); bytes > budgetBytes; ) {
      bytes -= eldest.next().json().length;
      eldest.remove();
    }
  }

  synchronized long hits() {
    return hits;
  }

  synchronized long misses() {
    return misses;
  }

  synchronized long bytes() {
    return bytes;
  }

  private void remove(Key key) {
    Entry old = entries.remove(key);
    if (old != null) {
      bytes -= old.json().length;
    }
  }
}
