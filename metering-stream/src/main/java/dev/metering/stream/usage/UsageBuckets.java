package dev.metering.stream.usage;

import dev.metering.records.state.UsageTotals;
import java.util.Iterator;
import java.util.LinkedHashMap;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Hourly and daily totals of one scope (an API key or an org) in two window stores.
 *
 * <p>Optionally keeps the most recently used buckets decoded, for scopes with few hot ids (orgs):
 * an org's bucket carries a breakdown by model and is read on every one of its events, the day a
 * week earlier too (the spike baseline), which made decoding it most of the org task's time. The
 * copies are bounded by weight, one per bucket plus one per model it names, so they take a few MiB
 * per task whatever {@code METERING_MAX_MODELS_PER_BUCKET} allows. Every update is still written
 * through to the store, so the store and its changelog stay the truth; this processor is the only
 * writer of its task's stores, and the copies are created with the processor's stores in
 * {@code init}, which Kafka Streams calls again whenever the task's state is restored, so they
 * never run ahead of the store.
 */
public final class UsageBuckets {

  private final WindowStore<String, UsageTotals> hourly;
  private final WindowStore<String, UsageTotals> daily;
  /** Least recently used first. */
  private final LinkedHashMap<Bucket, Copy> decoded = new LinkedHashMap<>(16, 0.75f, true);
  private final int maxWeight;
  private final int maxModels;
  private long weight;

  private record Bucket(boolean day, String id, long start) {
  }

  /** A decoded bucket and its weight when it was last kept (it grows in place until it is kept again). */
  private record Copy(UsageTotals totals, int weight) {
  }

  /**
   * @param decodedWeight the most weight of buckets to keep decoded; 0 for scopes whose ids are each
   *     touched about once per commit (API keys), where copies did not pay (docs/benchmarks.md)
   * @param maxModels how many models a bucket names before it sums the rest (see {@link Totals#addWithModel})
   */
  public UsageBuckets(WindowStore<String, UsageTotals> hourly, WindowStore<String, UsageTotals> daily,
      int decodedWeight, int maxModels) {
    this.hourly = hourly;
    this.daily = daily;
    this.maxWeight = decodedWeight;
    this.maxModels = maxModels;
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

  /** The weight of the buckets kept decoded now. */
  long decodedWeight() {
    return weight;
  }

  private UsageTotals addTo(boolean day, String id, String orgId, long start, PricedEvent priced) {
    Bucket bucket = new Bucket(day, id, start);
    UsageTotals totals = read(bucket);
    totals = Totals.addWithModel(totals != null ? totals : Totals.empty(orgId), priced, maxModels);
    try {
      (day ? daily : hourly).put(id, totals, start);
    } catch (RuntimeException e) {
      // the copy was changed in place but the store may not have taken it: forget the copy
      forget(bucket);
      throw e;
    }
    keep(bucket, totals);
    return totals;
  }

  private UsageTotals read(boolean day, String id, long start) {
    return read(new Bucket(day, id, start));
  }

  private UsageTotals read(Bucket bucket) {
    // key tasks keep no copies: no lookup on their per-event path
    Copy copy = maxWeight == 0 ? null : decoded.get(bucket);
    if (copy != null) {
      return copy.totals();
    }
    UsageTotals totals = (bucket.day() ? daily : hourly).fetch(bucket.id(), bucket.start());
    if (totals != null) {
      keep(bucket, totals);
    }
    return totals;
  }

  private void keep(Bucket bucket, UsageTotals totals) {
    if (maxWeight == 0) {
      return;
    }
    int copyWeight = 1 + totals.getByModel().size();
    Copy replaced = decoded.put(bucket, new Copy(totals, copyWeight));
    weight += copyWeight - (replaced == null ? 0 : replaced.weight());
    Iterator<Copy> eldest = decoded.values().iterator();
    while (weight > maxWeight && eldest.hasNext()) {
      weight -= eldest.next().weight();
      eldest.remove();
    }
  }

  private void forget(Bucket bucket) {
    Copy copy = decoded.remove(bucket);
    if (copy != null) {
      weight -= copy.weight();
    }
  }
}
