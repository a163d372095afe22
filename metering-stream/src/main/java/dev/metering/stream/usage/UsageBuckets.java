package dev.metering.stream.usage;

import dev.metering.records.state.UsageTotals;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Hourly and daily totals of one scope (an API key or an org) in two window stores.
 *
 * <p>Optionally keeps the most recently used buckets decoded, for scopes with few hot ids (orgs):
 * an org's bucket carries a breakdown by model and is read on every one of its events, the day a
 * week earlier too (the spike baseline), which made decoding it most of the org task's time. Every
 * update is still written through to the store, so the store and its changelog stay the truth;
 * this processor is the only writer of its task's stores, and the map is created with the
 * processor's stores in {@code init}, which Kafka Streams calls again whenever the task's state is
 * restored, so the copies never run ahead of the store.
 */
public final class UsageBuckets {

  private final WindowStore<String, UsageTotals> hourly;
  private final WindowStore<String, UsageTotals> daily;
  private final Map<Bucket, UsageTotals> decoded;
  private final int maxModels;

  private record Bucket(boolean day, String id, long start) {
  }

  /**
   * @param decodedBuckets how many recently used buckets to keep decoded; 0 for scopes whose ids
   *     are each touched about once per commit (API keys), where a copy would never be read again
   * @param maxModels how many models a bucket names before it sums the rest (see {@link Totals#addWithModel})
   */
  public UsageBuckets(WindowStore<String, UsageTotals> hourly, WindowStore<String, UsageTotals> daily,
      int decodedBuckets, int maxModels) {
    this.hourly = hourly;
    this.daily = daily;
    this.maxModels = maxModels;
    this.decoded = decodedBuckets == 0 ? null : new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Bucket, UsageTotals> eldest) {
        return size() > decodedBuckets;
      }
    };
  }

  /** Adds the event to its hour and day of {@code id}; returns the day's new totals. */
  public UsageTotals add(String id, String orgId, PricedEvent priced) {
    long time = priced.event().getTimestamp();
    addTo(false, id, orgId, Periods.hourStart(time), priced);
    return addTo(true, id, orgId, Periods.dayStart(time), priced);
  }

  /** The day's totals of {@code id}, or null; the caller must not change them. */
  public UsageTotals day(String id, long dayStart) {
    return read(true, id, dayStart);
  }

  private UsageTotals addTo(boolean day, String id, String orgId, long start, PricedEvent priced) {
    UsageTotals totals = read(day, id, start);
    totals = Totals.addWithModel(totals != null ? totals : Totals.empty(orgId), priced, maxModels);
    try {
      (day ? daily : hourly).put(id, totals, start);
    } catch (RuntimeException e) {
      // the copy was changed in place but the store may not have taken it: forget the copy
      forget(day, id, start);
      throw e;
    }
    if (decoded != null) {
      decoded.put(new Bucket(day, id, start), totals);
    }
    return totals;
  }

  private UsageTotals read(boolean day, String id, long start) {
    if (decoded == null) {
      return (day ? daily : hourly).fetch(id, start);
    }
    Bucket bucket = new Bucket(day, id, start);
    UsageTotals totals = decoded.get(bucket);
    if (totals == null) {
      totals = (day ? daily : hourly).fetch(id, start);
      if (totals != null) {
        decoded.put(bucket, totals);
      }
    }
    return totals;
  }

  private void forget(boolean day, String id, long start) {
    if (decoded != null) {
      decoded.remove(new Bucket(day, id, start));
    }
  }
}
