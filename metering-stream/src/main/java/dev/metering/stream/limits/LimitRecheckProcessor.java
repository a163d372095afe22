package dev.metering.stream.limits;

import dev.metering.records.LimitEvent;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

/**
 * Re-evaluates a key's current month when its api-keys record or its alert rules change, so a
 * raised limit clears a breach (and a lowered one breaches) without waiting for the next call.
 */
public final class LimitRecheckProcessor<V> implements Processor<String, V, String, LimitEvent> {

  private ProcessorContext<String, LimitEvent> context;
  private KeyLimits limits;

  @Override
  public void init(ProcessorContext<String, LimitEvent> context) {
    this.context = context;
    this.limits = KeyLimits.open(context);
  }

  @Override
  public void process(Record<String, V> record) {
    if (record.key() == null) {
      return;
    }
    for (LimitEvent event : limits.recheck(record.key(), record.timestamp())) {
      context.forward(new Record<>(record.key(), event, record.timestamp()));
    }
  }
}
