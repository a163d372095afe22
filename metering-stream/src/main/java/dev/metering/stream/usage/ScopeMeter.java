package dev.metering.stream.usage;

import dev.metering.records.UsageSpike;
import dev.metering.records.state.UsageTotals;
import dev.metering.stream.spikes.SpikeDetector;
import dev.metering.stream.spikes.SpikeSettings;
import java.util.Optional;
import org.apache.kafka.streams.processor.api.ProcessingContext;

/** Hourly and daily totals of one kind of scope (API keys or orgs) and spike detection over them. */
final class ScopeMeter {

  private final UsageBuckets buckets;
  private final SpikeDetector spikes;

  private ScopeMeter(UsageBuckets buckets, SpikeDetector spikes) {
    this.buckets = buckets;
    this.spikes = spikes;
  }

  /** Opens the scope's three stores in a processor's context, keeping buckets of {@code decodedWeight} decoded (see {@link UsageBuckets}). */
  static ScopeMeter open(ProcessingContext context, String hourlyStore, String dailyStore, String spikesFiredStore,
      SpikeSettings settings, int decodedWeight, int maxModels) {
    UsageBuckets buckets = new UsageBuckets(context.getStateStore(hourlyStore), context.getStateStore(dailyStore),
        decodedWeight, maxModels);
    return new ScopeMeter(buckets, new SpikeDetector(buckets, context.getStateStore(spikesFiredStore), settings));
  }

  /**
   * Adds the event to the hour and day of scope {@code id}; returns the day's spike if this event
   * is the first to push it over.
   *
   * @param apiKeyId the key for a key scope, null for an org scope
   */
  Optional<UsageSpike> add(String id, String apiKeyId, PricedEvent priced) {
    long time = priced.event().getTimestamp();
    var day = buckets.add(id, priced.event().getOrgId(), priced);
    return spikes.check(id, priced.event().getOrgId(), apiKeyId, Periods.dayStart(time), day, time);
  }

  /** Adds the event to the hour and day of scope {@code id} without judging spikes; returns the day's totals. */
  UsageTotals record(String id, PricedEvent priced) {
    return buckets.add(id, priced.event().getOrgId(), priced);
  }

  /** Judges the day starting at {@code dayStart} of scope {@code id} as it stands; nothing if it has no usage. */
  Optional<UsageSpike> check(String id, String apiKeyId, long dayStart, long detectedAt) {
    UsageTotals day = buckets.day(id, dayStart);
    return day == null ? Optional.empty()
        : spikes.check(id, day.getOrgId(), apiKeyId, dayStart, day, detectedAt);
  }

  /** Judges {@code day}, the totals of the day starting at {@code dayStart} of scope {@code id}. */
  Optional<UsageSpike> check(String id, String apiKeyId, long dayStart, UsageTotals day, long detectedAt) {
    return spikes.check(id, day.getOrgId(), apiKeyId, dayStart, day, detectedAt);
  }
}
