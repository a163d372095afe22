package dev.metering.stream.usage;

import dev.metering.records.LimitEvent;
import dev.metering.records.UsageEvent;
import dev.metering.records.UsageSpike;
import dev.metering.records.state.UsageTotals;
import dev.metering.stream.limits.MonthLimits;
import dev.metering.stream.limits.OrgLimits;
import dev.metering.stream.limits.PromptCommit;
import dev.metering.stream.pricing.PriceBook;
import dev.metering.stream.spikes.SpikeSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Meters accepted events per organisation (records keyed by org_id): the calendar month against
 * the org's budget ({@link OrgLimits}, limit events of scope ORG), hourly and daily totals, each
 * key's daily totals laid out by org for reports by key ({@link OrgKeyTotals}), and org-wide spikes judged
 * only against a complete baseline.
 *
 * <p>An org's usage comes from several usage-events partitions at their own pace (see
 * {@link SourceWatermarks}). A day is compared with the same weekday a week before only once that
 * baseline day is final on every partition; until then the day waits in a store and is judged
 * when the partitions' announcements make the baseline final. So a backfill, whose partitions run
 * at different speeds, fires the same org spikes as the same usage arriving live, and never one
 * against a baseline that slower partitions are still filling.
 */
public final class OrgUsageProcessor implements Processor<String, UsageEvent, String, SpecificRecord> {

  public static final String HOURLY_STORE = "org-hourly-totals";
  public static final String DAILY_STORE = "org-daily-totals";
  public static final String SPIKES_FIRED_STORE = "org-spikes-fired";
  /** Org days whose spike check waits for a final baseline, keyed by day start (zero-padded) and org_id. */
  public static final String PENDING_STORE = "org-spike-checks-pending";

  /**
   * The weight of org buckets kept decoded per task (see {@link UsageBuckets}): 32,768, about
   * 6 MiB of heap, e.g. the current hour and day and the day a week before of 500 orgs using 20 models.
   */
  static final int DECODED_WEIGHT = 32 * 1024;

  private static final long WEEK_MILLIS = 7 * Periods.DAY_MILLIS;
  private static final String ZEROS = "0".repeat(19);

  private final PriceBook prices;
  private final SpikeSettings spikeSettings;
  private final int maxModels;
  private final int sourcePartitions;
  private final Duration lateGrace;

  private ProcessorContext<String, SpecificRecord> context;
  private MonthLimits limits;
  private ScopeMeter meter;
  private Progress progress;
  private SourceWatermarks sources;
  private KeyValueStore<String, Long> pending;
  private KeyValueStore<String, Long> progressStore;
  private OrgKeyTotals keyTotals;
  /** Read on the first record, not in init: a store written outside processing has no record context to log with. */
  private boolean keyTotalsSinceKnown;
  private final Duration dailyRetention;

  /**
   * @param sourcePartitions how many usage-events partitions announce their watermarks
   */
  public OrgUsageProcessor(PriceBook prices, SpikeSettings spikeSettings, int maxModels, int sourcePartitions,
      Duration lateGrace, Duration dailyRetention) {
    this.dailyRetention = dailyRetention;
    this.prices = prices;
    this.spikeSettings = spikeSettings;
    this.maxModels = maxModels;
    this.sourcePartitions = sourcePartitions;
    this.lateGrace = lateGrace;
  }

  @Override
  public void init(ProcessorContext<String, SpecificRecord> context) {
    this.context = context;
    this.limits = OrgLimits.open(context);
    this.meter = ScopeMeter.open(context, HOURLY_STORE, DAILY_STORE, SPIKES_FIRED_STORE, spikeSettings,
        DECODED_WEIGHT, maxModels);
    this.progressStore = context.getStateStore(Progress.ORG_STORE);
    this.progress = new Progress(progressStore);
    this.sources = new SourceWatermarks(progressStore, sourcePartitions, lateGrace.toMillis());
    this.pending = context.getStateStore(PENDING_STORE);
    this.keyTotals = new OrgKeyTotals(context.getStateStore(OrgKeyTotals.STORE));
    this.keyTotalsSinceKnown = false;
  }

  /**
   * Deletes key totals older than their retention, measured from the time through which every
   * partition is final rather than from this task's stream time: during a backfill one partition
   * may be weeks ahead of another, and the slower one's usage must still find its buckets here.
   */
  private void expireKeyTotals() {
    long horizon = Math.min(sources.finalThrough(), progress.time());
    if (horizon != Long.MIN_VALUE) {
      keyTotals.expire(horizon - dailyRetention.toMillis());
    }
  }

  @Override
  public void process(Record<String, UsageEvent> record) {
    if (SourceWatermarks.isMarker(record.value())) {
      if (sources.announce(record.key(), record.timestamp())) {
        judgePending(record);
        expireKeyTotals();
      }
      return;
    }
    if (!keyTotalsSinceKnown) {
      // a task that ran before these totals were kept lacks the usage it had counted by then
      if (progressStore.get(OrgKeyTotals.SINCE) == null) {
        progressStore.put(OrgKeyTotals.SINCE, progress.time());
      }
      keyTotalsSinceKnown = true;
    }
    String orgId = record.key();
    PricedEvent priced = CostHeader.read(record.value(), record.headers(), prices);
    // the org's watermark is the event time of the usage it metered (validated at ingest), not the
    // task's stream time, which an org-budgets or rules record with any timestamp would move
    progress.advance(priced.event().getTimestamp());
    UsageTotals day = meter.record(orgId, priced);
    keyTotals.add(orgId, priced.event().getApiKeyId(), priced);
    for (LimitEvent limitEvent : limits.onUsage(orgId, priced)) {
      context.forward(record.withValue(limitEvent));
      PromptCommit.requestIfWanted(context, limitEvent, priced.event().getTimestamp());
    }
    long time = priced.event().getTimestamp();
    long dayStart = Periods.dayStart(time);
    if (sources.isFinal(dayStart - WEEK_MILLIS)) {
      meter.check(orgId, null, dayStart, day, time).ifPresent(spike -> context.forward(record.withValue(spike)));
    } else {
      // during a catch-up every event of the day lands here: read, and write the day only once
      String key = pendingKey(orgId, dayStart);
      if (pending.get(key) == null) {
        pending.put(key, dayStart);
      }
    }
  }

  /**
   * Judges every waiting org day whose baseline has become final, as the day stands now. Waiting
   * days are keyed by day first, so only the ones that became final are read.
   */
  private void judgePending(Record<String, UsageEvent> marker) {
    // day D is ready once D - 7 is final, i.e. once D - 6 days <= finalThrough
    long lastReadyDay = Periods.dayStart(Math.min(sources.finalThrough(), Long.MAX_VALUE - WEEK_MILLIS) + WEEK_MILLIS)
        - Periods.DAY_MILLIS;
    List<KeyValue<String, Long>> ready = new ArrayList<>();
    // up to the first key of the day after (no org id is empty, so no such key exists)
    try (KeyValueIterator<String, Long> days = pending.range(null, pendingKey("", lastReadyDay + Periods.DAY_MILLIS))) {
      while (days.hasNext()) {
        ready.add(days.next());
      }
    }
    for (KeyValue<String, Long> entry : ready) {
      String orgId = entry.key.substring(entry.key.indexOf('|') + 1);
      pending.delete(entry.key);
      Optional<UsageSpike> spike = meter.check(orgId, null, entry.value, marker.timestamp());
      spike.ifPresent(s -> context.forward(new Record<>(orgId, s, marker.timestamp())));
    }
  }

  /**
   * Day first, zero-padded to 19 digits ({@code %019d}, as stored since the store exists), so that
   * the store's byte order is the order of days. Padded by hand: this runs for every org event
   * while a day waits for its baseline, and String.format cost 2-3% of the stream thread.
   */
  static String pendingKey(String orgId, long dayStart) {
    if (dayStart < 0) {
      return String.format("%019d|%s", dayStart, orgId);
    }
    String digits = Long.toString(dayStart);
    return ZEROS.substring(digits.length()) + digits + '|' + orgId;
  }
}
