package dev.metering.stream.usage;

import dev.metering.records.UsageEvent;
import dev.metering.records.UsageSpike;
import dev.metering.stream.pricing.PriceBook;
import dev.metering.stream.spikes.SpikeSettings;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/** Meters accepted events per organisation (records keyed by org_id): hourly and daily totals, org-wide spikes. */
public final class OrgUsageProcessor implements Processor<String, UsageEvent, String, UsageSpike> {

  public static final String HOURLY_STORE = "org-hourly-totals";
  public static final String DAILY_STORE = "org-daily-totals";
  public static final String SPIKES_FIRED_STORE = "org-spikes-fired";

  /** Org buckets kept decoded: an org's current hour and day and the day a week before, for many orgs. */
  static final int DECODED_BUCKETS = 3 * 1024;

  private final PriceBook prices;
  private final SpikeSettings spikeSettings;
  private final int maxModels;

  private ProcessorContext<String, UsageSpike> context;
  private ScopeMeter meter;
  private Progress progress;

  public OrgUsageProcessor(PriceBook prices, SpikeSettings spikeSettings, int maxModels) {
    this.prices = prices;
    this.spikeSettings = spikeSettings;
    this.maxModels = maxModels;
  }

  @Override
  public void init(ProcessorContext<String, UsageSpike> context) {
    this.context = context;
    this.meter = ScopeMeter.open(context, HOURLY_STORE, DAILY_STORE, SPIKES_FIRED_STORE, spikeSettings,
        DECODED_BUCKETS, maxModels);
    this.progress = new Progress(context.getStateStore(Progress.ORG_STORE));
  }

  @Override
  public void process(Record<String, UsageEvent> record) {
    progress.advance(context.currentStreamTimeMs());
    meter.add(record.key(), null, PricedEvent.price(record.value(), prices))
        .ifPresent(spike -> context.forward(record.withValue(spike)));
  }
}
