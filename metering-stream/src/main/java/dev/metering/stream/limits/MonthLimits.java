package dev.metering.stream.limits;

import dev.metering.records.AlertRule;
import dev.metering.records.LimitEvent;
import dev.metering.records.state.AlertRuleSet;
import dev.metering.records.state.MonthState;
import dev.metering.stream.usage.Periods;
import dev.metering.stream.usage.PricedEvent;
import dev.metering.stream.usage.Totals;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;
import org.apache.kafka.streams.processor.api.ProcessingContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

/**
 * A scope's calendar-month totals (UTC) and the limit events they call for: an API key's, over
 * the stores of {@link KeyLimits}, or an organisation's, over those of {@link OrgLimits}. The
 * month store, the limits table and the rules table are all in the same task.
 */
public final class MonthLimits {

  private final KeyValueStore<String, MonthState> months;
  private final Function<String, MonthlyLimits> limits;
  private final TimestampedKeyValueStore<String, AlertRuleSet> rules;

  MonthLimits(KeyValueStore<String, MonthState> months, Function<String, MonthlyLimits> limits,
      TimestampedKeyValueStore<String, AlertRuleSet> rules) {
    this.months = months;
    this.limits = limits;
    this.rules = rules;
  }

  /** The month store's key of scope {@code id} (an api_key_id or an org_id). */
  public static String monthKey(String id, String period) {
    return id + "|" + period;
  }

  /** Adds the event to its scope's month (the month of its event time) and evaluates that month. */
  public List<LimitEvent> onUsage(String id, PricedEvent priced) {
    return onUsage(id, priced, limits.apply(id));
  }

  /**
   * The same, with the scope's limits already read (an API key's, read once at ingest).
   *
   * @param scopeLimits the scope's limits, or null where it has none
   */
  public List<LimitEvent> onUsage(String id, PricedEvent priced, MonthlyLimits scopeLimits) {
    long time = priced.event().getTimestamp();
    String period = Periods.month(time);
    String monthKey = monthKey(id, period);
    MonthState state = months.get(monthKey);
    if (state == null) {
      state = new MonthState(Totals.empty(priced.event().getOrgId()), false, null, new ArrayList<>());
    }
    Totals.add(state.getTotals(), priced);
    List<LimitEvent> events = LimitEvaluator.evaluate(period, state, scopeLimits, rulesOf(id),
        priced.event().getEventId(), time);
    months.put(monthKey, state);
    return events;
  }

  /**
   * Evaluates a month again after the scope's limits or rules changed.
   *
   * @param period yyyy-MM
   * @param detectedAt the time the change is judged at: the partition's watermark
   */
  public List<LimitEvent> recheck(String id, String period, long detectedAt) {
    String monthKey = monthKey(id, period);
    MonthState state = months.get(monthKey);
    if (state == null) {
      return List.of();
    }
    List<LimitEvent> events = LimitEvaluator.evaluate(period, state, limits.apply(id), rulesOf(id), null, detectedAt);
    if (!events.isEmpty()) {
      months.put(monthKey, state);
    }
    return events;
  }

  private Collection<AlertRule> rulesOf(String id) {
    AlertRuleSet set = value(rules.get(id));
    return set == null ? List.of() : set.getRules().values();
  }

  static <V> V value(ValueAndTimestamp<V> stored) {
    return stored == null ? null : stored.value();
  }

  static MonthLimits open(ProcessingContext context, String monthStore,
      Function<String, MonthlyLimits> limits, String rulesStore) {
    return new MonthLimits(context.getStateStore(monthStore), limits, context.getStateStore(rulesStore));
  }
}
