package dev.metering.stream.usage;

import dev.metering.records.state.UsageTotals;
import org.apache.kafka.streams.state.WindowStore;

/** Hourly and daily totals of one scope (an API key or an org) in two window stores. */
public final class UsageBuckets {

  private final WindowStore<String, UsageTotals> hourly;
  private final WindowStore<String, UsageTotals> daily;

  public UsageBuckets(WindowStore<String, UsageTotals> hourly, WindowStore<String, UsageTotals> daily) {
    this.hourly = hourly;
    this.daily = daily;
  }

  /** Adds the event to its hour and day of {@code id}; returns the day's new totals. */
  public UsageTotals add(String id, String orgId, PricedEvent priced) {
    long time = priced.event().getTimestamp();
    addTo(hourly, id, orgId, Periods.hourStart(time), priced);
    return addTo(daily, id, orgId, Periods.dayStart(time), priced);
  }

  /** The day's totals of {@code id}, or null. */
  public UsageTotals day(String id, long dayStart) {
    return daily.fetch(id, dayStart);
  }

  private static UsageTotals addTo(WindowStore<String, UsageTotals> store, String id, String orgId, long start,
      PricedEvent priced) {
    UsageTotals totals = store.fetch(id, start);
    totals = Totals.addWithModel(totals != null ? totals : Totals.empty(orgId), priced);
    store.put(id, totals, start);
    return totals;
  }
}
