package dev.metering.stream.usage;

import dev.metering.records.UsageEvent;
import dev.metering.records.UsageSpike;
import dev.metering.stream.pricing.PriceBook;
import dev.metering.stream.spikes.SpikeDetector;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/** Meters accepted events per organisation (records keyed by org_id): hourly and daily totals, org-wide spikes. */
public final class OrgUsageProcessor implements Processor<String, UsageEvent, String, UsageSpike> {

  public static final String HOURLY_STORE = "org-hourly-totals";
  public static final String DAILY_STORE = "org-daily-totals";
  public static final String SPIKES_FIRED_STORE = "org-spikes-fired";

  private final PriceBook prices;
  private final double spikeFactor;
  private final long spikeMinBaselineTokens;

  private ProcessorContext<String, UsageSpike> context;
  private UsageBuckets buckets;
  private SpikeDetector spikes;

  public OrgUsageProcessor(PriceBook prices, double spikeFactor, long spikeMinBaselineTokens) {
    this.prices = prices;
    this.spikeFactor = spikeFactor;
    this.spikeMinBaselineTokens = spikeMinBaselineTokens;
  }

  @Override
  public void init(ProcessorContext<String, UsageSpike> context) {
    this.context = context;
    this.buckets = new UsageBuckets(context.getStateStore(HOURLY_STORE), context.getStateStore(DAILY_STORE));
    this.spikes = new SpikeDetector(buckets, context.getStateStore(SPIKES_FIRED_STORE), spikeFactor,
        spikeMinBaselineTokens);
  }

  @Override
  public void process(Record<String, UsageEvent> record) {
    UsageEvent event = record.value();
    String orgId = record.key();
    long time = event.getTimestamp();
    var day = buckets.add(orgId, orgId, PricedEvent.price(event, prices));
    spikes.check(orgId, orgId, null, Periods.dayStart(time), day, time)
        .ifPresent(spike -> context.forward(record.withValue(spike)));
  }
}
