package dev.metering.stream.usage;

import java.util.Optional;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * What an org task knows of the usage-events partitions that feed it: the watermark each last
 * announced, so it can tell when a day is complete across all of them.
 *
 * <p>An org's usage arrives from every usage-events partition that holds one of its keys, each
 * at its own pace: during a backfill one partition may be weeks ahead of another. Each ingest task
 * therefore announces its watermark to every org partition (a marker record, see
 * {@link #markerKey}), after the usage it accepted before reaching it. Once every partition's
 * watermark minus the late grace has passed the end of a day, no more usage of that day can be
 * accepted anywhere, and the org's total for it is final. A partition that has accepted nothing for
 * a while announces itself idle and is left out until it accepts usage again.
 *
 * <p>Leaving an idle partition out is right for judging spikes (an idle partition must not hold
 * them back) but not for saying a day can never change: an idle partition still accepts usage
 * down to its own watermark minus the grace. Its marker's timestamp is that watermark, so
 * {@link #sealedThrough} counts every partition at the watermark it last had: days ending by then
 * are sealed for good, and a query may keep them rendered.
 */
public final class SourceWatermarks {

  /** The watermark an idle partition announces: it holds nothing back. */
  public static final long IDLE = Long.MAX_VALUE;

  private static final String MARKER_PREFIX = "\u0000watermark:";
  private static final String STORE_PREFIX = "source_watermark.";
  private static final String SEEN_PREFIX = "source_watermark_seen.";
  /** In the org progress store: {@link #sealedThrough}, for queries. */
  public static final String SEALED_THROUGH = "sealed_through_ms";

  private final KeyValueStore<String, Long> store;
  private final int partitions;
  private final long lateGraceMillis;
  private final long[] watermarks;
  /** Each partition's last watermark, idle or not: a lower bound of its watermark from then on. */
  private final long[] seen;

  /**
   * @param store the org task's progress store, where announced watermarks are kept
   * @param partitions how many usage-events partitions there are
   */
  public SourceWatermarks(KeyValueStore<String, Long> store, int partitions, long lateGraceMillis) {
    this.store = store;
    this.partitions = partitions;
    this.lateGraceMillis = lateGraceMillis;
    this.watermarks = new long[partitions];
    this.seen = new long[partitions];
    for (int p = 0; p < partitions; p++) {
      watermarks[p] = stored(STORE_PREFIX + p);
      seen[p] = stored(SEEN_PREFIX + p);
    }
  }

  private long stored(String key) {
    Long value = store.get(key);
    return value == null ? Long.MIN_VALUE : value;
  }

  /** The key of a marker announcing {@code watermark} (or {@link #IDLE}) of usage-events partition {@code partition}. */
  public static String markerKey(int partition, long watermark) {
    return MARKER_PREFIX + partition + ":" + watermark;
  }

  /** Whether a record of the org path is a marker rather than usage: markers have no value. */
  public static boolean isMarker(Object value) {
    return value == null;
  }

  /**
   * Records an announcement; returns whether the time through which every day is final moved
   * forward. A key that is not a well-formed marker is ignored.
   *
   * @param timestamp the marker's timestamp: the partition's watermark, also when it announces itself idle
   */
  public boolean announce(String markerKey, long timestamp) {
    Optional<long[]> parsed = parse(markerKey);
    if (parsed.isEmpty() || parsed.get()[0] < 0 || parsed.get()[0] >= partitions) {
      return false;
    }
    int partition = (int) parsed.get()[0];
    long before = finalThrough();
    watermarks[partition] = parsed.get()[1];
    store.put(STORE_PREFIX + partition, parsed.get()[1]);
    long watermark = parsed.get()[1] == IDLE ? timestamp : parsed.get()[1];
    if (watermark > seen[partition]) {
      long sealedBefore = sealedThrough();
      seen[partition] = watermark;
      store.put(SEEN_PREFIX + partition, watermark);
      if (sealedThrough() > sealedBefore) {
        store.put(SEALED_THROUGH, sealedThrough());
      }
    }
    return finalThrough() > before;
  }

  /**
   * Every day ending at or before this can never change: no partition, idle or not, can accept
   * usage for it any more. Long.MIN_VALUE while one has not announced.
   */
  public long sealedThrough() {
    long min = Long.MAX_VALUE;
    for (long watermark : seen) {
      min = Math.min(min, watermark);
    }
    return min == Long.MIN_VALUE ? Long.MIN_VALUE : min - lateGraceMillis;
  }

  /** Every day ending at or before this is final across all partitions; Long.MIN_VALUE while one has not announced. */
  public long finalThrough() {
    long min = Long.MAX_VALUE;
    for (long watermark : watermarks) {
      min = Math.min(min, watermark);
    }
    if (min == Long.MIN_VALUE) {
      return Long.MIN_VALUE;
    }
    return min == IDLE ? Long.MAX_VALUE : min - lateGraceMillis;
  }

  /** Whether the day starting at {@code dayStart} is final across all partitions. */
  public boolean isFinal(long dayStart) {
    return finalThrough() >= dayStart + Periods.DAY_MILLIS;
  }

  private static Optional<long[]> parse(String key) {
    if (key == null || !key.startsWith(MARKER_PREFIX)) {
      return Optional.empty();
    }
    String[] parts = key.substring(MARKER_PREFIX.length()).split(":");
    try {
      return parts.length == 2 ? Optional.of(new long[] {Integer.parseInt(parts[0]), Long.parseLong(parts[1])})
          : Optional.empty();
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }
}
