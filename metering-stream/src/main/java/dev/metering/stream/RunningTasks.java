package dev.metering.stream;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.kafka.streams.TopologyDescription;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;

/**
 * The tasks of this instance that are running: restored, their processors initialised. Kafka
 * Streams 4 restores an active task in its state updater while the task's stream thread stays
 * RUNNING (after the task was found corrupted, as when a transaction failed in a broker outage: its
 * stores are wiped and rebuilt from their changelogs), and serves that task's stores to interactive
 * queries meanwhile, empty or half restored: a key's month was read as unknown (404) or short.
 * A task's processors are initialised only once its restoration is complete and closed before it
 * is suspended, closed or revived, so a processor that reports them tells when its task's stores are whole.
 */
public final class RunningTasks {

  private final Set<TaskId> running = ConcurrentHashMap.newKeySet();
  /** Closes of running tasks so far: counted as each stops being readable, before its stores can be wiped. */
  private final AtomicLong closes = new AtomicLong();

  /** {@code processors}, each reporting its task here as running from its initialisation to its close. */
  public <KIn, VIn, KOut, VOut> ProcessorSupplier<KIn, VIn, KOut, VOut> reporting(
      Supplier<? extends Processor<KIn, VIn, KOut, VOut>> processors) {
    return () -> new Reporting<>(processors.get());
  }

  /**
   * Which store partitions are read from a running task here, for the stores of {@code topology}:
   * a store of a sub-topology without a {@link #reporting} processor never is.
   */
  public Readable readable(TopologyDescription topology) {
    Map<String, Integer> subtopologyOf = new HashMap<>();
    for (TopologyDescription.Subtopology subtopology : topology.subtopologies()) {
      for (TopologyDescription.Node node : subtopology.nodes()) {
        if (node instanceof TopologyDescription.Processor processor) {
          processor.stores().forEach(store -> subtopologyOf.put(store, subtopology.id()));
        }
      }
    }
    return new Readable(Map.copyOf(subtopologyOf));
  }

  /** Which store partitions are read from a running task here. */
  public final class Readable {
    private final Map<String, Integer> subtopologyOf;

    private Readable(Map<String, Integer> subtopologyOf) {
      this.subtopologyOf = subtopologyOf;
    }

    public boolean test(String store, int partition) {
      Integer subtopology = subtopologyOf.get(store);
      return subtopology != null && running.contains(new TaskId(subtopology, partition));
    }

    /**
     * How many times a running task here has closed. A store found readable stays whole while this
     * is unchanged: a task corrupted while its thread runs is closed (and counted) before its stores
     * are wiped and restored, which can happen between a query's check and its read; a read is
     * whole if the count is the same after it as before its checks.
     */
    public long closes() {
      return closes.get();
    }
  }

  private final class Reporting<KIn, VIn, KOut, VOut> implements Processor<KIn, VIn, KOut, VOut> {
    private final Processor<KIn, VIn, KOut, VOut> processor;
    private TaskId task;

    private Reporting(Processor<KIn, VIn, KOut, VOut> processor) {
      this.processor = processor;
    }

    @Override
    public void init(ProcessorContext<KOut, VOut> context) {
      processor.init(context);
      task = context.taskId();
      running.add(task);
    }

    @Override
    public void process(Record<KIn, VIn> record) {
      processor.process(record);
    }

    @Override
    public void close() {
      if (task != null) {
        running.remove(task);
        closes.incrementAndGet();
      }
      processor.close();
    }
  }
}
