package dev.metering.stream.limits;

import java.util.function.Function;
import org.apache.kafka.streams.processor.api.ProcessingContext;

/**
 * One scope's limit stores: its months, its limits table, its rules table, and the progress store
 * whose stream time a change of limits or rules is judged at.
 */
public record LimitStores(String monthStore, String limitsStore, String rulesStore, String progressStore,
    Function<ProcessingContext, MonthLimits> opener) {

  /** The stores {@link #opener} reads. */
  public String[] limitStores() {
    return new String[] {monthStore, limitsStore, rulesStore};
  }

  /** Every store a recheck reads: the limit stores and the progress store. */
  public String[] recheckStores() {
    return new String[] {monthStore, limitsStore, rulesStore, progressStore};
  }
}
