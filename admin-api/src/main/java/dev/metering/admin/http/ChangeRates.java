package dev.metering.admin.http;

import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * How fast one organisation may change things (every admin request but a read): a bucket of
 * {@code perMinute} changes per organisation and instance, refilled at {@code perMinute} a
 * minute. Every change is an audit record, and the audit log is kept for good, so without a
 * bound one tenant's script could grow it (and the compacted tables) without end; a burst of a
 * minute's worth still goes through at once. A request that is refused or fails changed nothing
 * and is given back. One bucket per organisation that made a change.
 */
public final class ChangeRates {

  private static final long MINUTE_NANOS = 60_000_000_000L;

  private final long perMinute;
  private final LongSupplier nanoTime;
  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

  /** Changes left and when they were counted; guarded by itself. */
  private static final class Bucket {
    double left;
    long at;

    Bucket(double left, long at) {
      this.left = left;
      this.at = at;
    }
  }

  public ChangeRates(long perMinute, LongSupplier nanoTime) {
    if (perMinute < 1) {
      throw new IllegalArgumentException("perMinute must be at least 1");
    }
    this.perMinute = perMinute;
    this.nanoTime = nanoTime;
  }

  /**
   * Takes one of {@code orgId}'s changes; when it has none left, takes nothing and returns the
   * whole seconds until it has one again.
   */
  public OptionalLong take(String orgId) {
    long now = nanoTime.getAsLong();
    Bucket bucket = buckets.computeIfAbsent(orgId, org -> new Bucket(perMinute, now));
    synchronized (bucket) {
      bucket.left = Math.min(perMinute, bucket.left + (double) (now - bucket.at) * perMinute / MINUTE_NANOS);
      bucket.at = now;
      if (bucket.left >= 1) {
        bucket.left -= 1;
        return OptionalLong.empty();
      }
      double nanosToOne = (1 - bucket.left) * MINUTE_NANOS / perMinute;
      return OptionalLong.of(Math.max(1, (long) Math.ceil(nanosToOne / 1e9)));
    }
  }

  /** Gives back a change taken for a request that changed nothing (it was refused or failed). */
  public void giveBack(String orgId) {
    Bucket bucket = buckets.get(orgId);
    if (bucket != null) {
      synchronized (bucket) {
        bucket.left = Math.min(perMinute, bucket.left + 1);
      }
    }
  }
}
