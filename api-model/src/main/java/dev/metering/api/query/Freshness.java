package dev.metering.api.query;

import java.time.Instant;

/**
 * How fresh an answer is: the stream time (highest event time processed) of the partitions
 * it was read from, and whether any of them was read from a standby or restoring copy.
 */
public record Freshness(Instant asOf, boolean stale) {

  /** The freshness of an answer read from both: the older time, stale if either is. */
  public static Freshness min(Freshness a, Freshness b) {
    Instant asOf = a.asOf == null ? b.asOf : b.asOf == null ? a.asOf : a.asOf.isBefore(b.asOf) ? a.asOf : b.asOf;
    return new Freshness(asOf, a.stale || b.stale);
  }
}
