package dev.metering.stream.usage;

import dev.metering.records.LimitEvent;
import dev.metering.stream.limits.KeyLimits;
import dev.metering.stream.limits.MonthLimits;
import dev.metering.stream.limits.MonthlyLimits;
import dev.metering.stream.limits.PromptCommit;
import dev.metering.stream.spikes.SpikeSettings;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Meters one accepted, priced event for its API key: adds it to the key's hour, day and month,
 * and forwards the limit events and spike it causes (committing at once after a breach, see
 * {@link PromptCommit}).
 */
public final class KeyUsageProcessor implements Processor<String, AcceptedUsage, String, SpecificRecord> {

  public static final String HOURLY_STORE = "key-hourly-totals";
  public static final String DAILY_STORE = "key-daily-totals";
  public static final String SPIKES_FIRED_STORE = "key-spikes-fired";

  private final SpikeSettings spikeSettings;
  private final int maxModels;

  private ProcessorContext<String, SpecificRecord> context;
  private ScopeMeter meter;
  private MonthLimits limits;

  public KeyUsageProcessor(SpikeSettings spikeSettings, int maxModels) {
    this.spikeSettings = spikeSettings;
    this.maxModels = maxModels;
  }

  @Override
  public void init(ProcessorContext<String, SpecificRecord> context) {
    this.context = context;
    this.meter = ScopeMeter.open(context, HOURLY_STORE, DAILY_STORE, SPIKES_FIRED_STORE, spikeSettings, 0, maxModels);
    this.limits = KeyLimits.open(context);
  }

  @Override
  public void process(Record<String, AcceptedUsage> record) {
    String apiKeyId = record.key();
    PricedEvent priced = record.value().priced();
    var spike = meter.add(apiKeyId, apiKeyId, priced);
    for (LimitEvent limitEvent : limits.onUsage(apiKeyId, priced, MonthlyLimits.of(apiKeyId, record.value().key()))) {
      context.forward(record.withValue(limitEvent));
      PromptCommit.requestIfWanted(context, limitEvent, priced.event().getTimestamp());
    }
    spike.ifPresent(s -> context.forward(record.withValue(s)));
  }
}
