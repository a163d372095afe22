package dev.metering.stream.limits;

import dev.metering.kafka.MisplacedRecords;
import dev.metering.records.LimitEvent;
import dev.metering.stream.usage.Periods;
import dev.metering.stream.usage.Progress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Re-evaluates a scope's open months when its limits (a key's api-keys record, an org's budget)
 * or its alert rules change, so a raised limit clears a breach (and a lowered one breaches)
 * without waiting for the next call.
 *
 * <p>The months are judged by the partition's watermark (the newest event time metered), not by
 * the change's own timestamp: a rule created last month but read after this month's usage (a
 * backfill, or the rules repartition lagging) acts on the month that is open now, and on the
 * month before while the late grace still accepts usage for it.
 */
public final class LimitRecheckProcessor<V> implements Processor<String, V, String, LimitEvent> {

  private final LimitStores stores;
  private final long lateGraceMillis;
  private final MisplacedRecords misplaced;
  private final int partitions;

  private ProcessorContext<String, LimitEvent> context;
  private MonthLimits limits;
  private KeyValueStore<String, Long> progress;

  /**
   * @param misplaced checks that a change is in its key's partition (changes read from a table
   *     topic others write), or null (changes this topology partitioned itself)
   * @param partitions the partition count of the changes' topic
   */
  public LimitRecheckProcessor(LimitStores stores, Duration lateGrace, MisplacedRecords misplaced, int partitions) {
    this.stores = stores;
    this.lateGraceMillis = lateGrace.toMillis();
    this.misplaced = misplaced;
    this.partitions = partitions;
  }

  @Override
  public void init(ProcessorContext<String, LimitEvent> context) {
    this.context = context;
    this.limits = stores.opener().apply(context);
    this.progress = context.getStateStore(stores.progressStore());
  }

  @Override
  public void process(Record<String, V> record) {
    Long watermark = progress.get(Progress.STREAM_TIME);
    if (record.key() == null) {
      return;
    }
    if (misplaced != null && misplaced.check(record.key().getBytes(StandardCharsets.UTF_8), record.value() == null,
        context.taskId().partition(), partitions)) {
      return; // its key's usage is metered in another task: nothing here to judge
    }
    if (watermark == null) {
      return; // nothing metered on this partition yet: no month to evaluate
    }
    Set<String> open = new LinkedHashSet<>();
    open.add(Periods.month(Math.max(watermark - lateGraceMillis, 0)));
    open.add(Periods.month(watermark));
    for (String period : open) {
      for (LimitEvent event : limits.recheck(record.key(), period, watermark)) {
        context.forward(new Record<>(record.key(), event, watermark));
        // the change's own time says whether it is live (an admin's edit) or replayed
        PromptCommit.requestIfWanted(context, event, record.timestamp());
      }
    }
  }
}
