package dev.metering.stream.usage;

import dev.metering.records.LimitEvent;
import dev.metering.records.UsageEvent;
import dev.metering.stream.limits.KeyLimits;
import dev.metering.stream.pricing.PriceBook;
import dev.metering.stream.spikes.SpikeDetector;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Meters one accepted event for its API key: prices it, adds it to the key's hour, day and month,
 * and forwards the limit events and spike it causes.
 */
public final class KeyUsageProcessor implements Processor<String, UsageEvent, String, SpecificRecord> {

  public static final String HOURLY_STORE = "key-hourly-totals";
  public static final String DAILY_STORE = "key-daily-totals";
  public static final String SPIKES_FIRED_STORE = "key-spikes-fired";

  private final PriceBook prices;
  private final double spikeFactor;
  private final long spikeMinBaselineTokens;

  private ProcessorContext<String, SpecificRecord> context;
  private UsageBuckets buckets;
  private SpikeDetector spikes;
  private KeyLimits limits;

  public KeyUsageProcessor(PriceBook prices, double spikeFactor, long spikeMinBaselineTokens) {
    this.prices = prices;
    this.spikeFactor = spikeFactor;
    this.spikeMinBaselineTokens = spikeMinBaselineTokens;
  }

  @Override
  public void init(ProcessorContext<String, SpecificRecord> context) {
    this.context = context;
    this.buckets = new UsageBuckets(context.getStateStore(HOURLY_STORE), context.getStateStore(DAILY_STORE));
    this.spikes = new SpikeDetector(buckets, context.getStateStore(SPIKES_FIRED_STORE), spikeFactor,
        spikeMinBaselineTokens);
    this.limits = new KeyLimits(
        context.getStateStore(KeyLimits.MONTH_STORE),
        context.getStateStore(KeyLimits.API_KEYS_STORE),
        context.getStateStore(KeyLimits.RULES_BY_KEY_STORE));
  }

  @Override
  public void process(Record<String, UsageEvent> record) {
    UsageEvent event = record.value();
    String apiKeyId = record.key();
    PricedEvent priced = PricedEvent.price(event, prices);
    long time = event.getTimestamp();
    var day = buckets.add(apiKeyId, event.getOrgId(), priced);
    for (LimitEvent limitEvent : limits.onUsage(apiKeyId, priced)) {
      context.forward(record.withValue(limitEvent));
    }
    spikes.check(apiKeyId, event.getOrgId(), apiKeyId, Periods.dayStart(time), day, time)
        .ifPresent(spike -> context.forward(record.withValue(spike)));
  }
}
