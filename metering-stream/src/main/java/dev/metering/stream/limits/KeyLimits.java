package dev.metering.stream.limits;

import dev.metering.records.AlertRule;
import dev.metering.records.ApiKey;
import dev.metering.records.LimitEvent;
import dev.metering.records.state.AlertRuleSet;
import dev.metering.records.state.MonthState;
import dev.metering.stream.usage.Periods;
import dev.metering.stream.usage.PricedEvent;
import dev.metering.stream.usage.Totals;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.kafka.streams.processor.api.ProcessingContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;

/**
 * A key's calendar-month totals (UTC) and the limit events they call for, over the month store
 * and the api-keys and rules-by-key tables of the same task.
 */
public final class KeyLimits {

  /** Month totals and emitted-event flags, keyed {@code api_key_id|yyyy-MM}. */
  public static final String MONTH_STORE = "key-month-totals";
  /** Latest api-keys record per key (the api-keys table). */
  public static final String API_KEYS_STORE = "api-keys-table";
  /** Alert rules per key, aggregated from alert-rules by api_key_id. */
  public static final String RULES_BY_KEY_STORE = "alert-rules-by-key";

  private final KeyValueStore<String, MonthState> months;
  private final TimestampedKeyValueStore<String, ApiKey> keys;
  private final TimestampedKeyValueStore<String, AlertRuleSet> rules;

  private KeyLimits(KeyValueStore<String, MonthState> months, TimestampedKeyValueStore<String, ApiKey> keys,
      TimestampedKeyValueStore<String, AlertRuleSet> rules) {
    this.months = months;
    this.keys = keys;
    this.rules = rules;
  }

  /** Opens the three stores in a processor's context. */
  public static KeyLimits open(ProcessingContext context) {
    return new KeyLimits(context.getStateStore(MONTH_STORE), context.getStateStore(API_KEYS_STORE),
        context.getStateStore(RULES_BY_KEY_STORE));
  }

  /** The stores a processor using {@link #open} must be connected to. */
  public static String[] storeNames() {
    return new String[] {MONTH_STORE, API_KEYS_STORE, RULES_BY_KEY_STORE};
  }

  public static String monthKey(String apiKeyId, String period) {
    return apiKeyId + "|" + period;
  }

  /** Adds the event to its key's month (the month of its event time) and evaluates that month. */
  public List<LimitEvent> onUsage(String apiKeyId, PricedEvent priced) {
    long time = priced.event().getTimestamp();
    String period = Periods.month(time);
    String monthKey = monthKey(apiKeyId, period);
    MonthState state = months.get(monthKey);
    if (state == null) {
      state = new MonthState(Totals.empty(priced.event().getOrgId()), false, null, new ArrayList<>());
    }
    Totals.add(state.getTotals(), priced);
    List<LimitEvent> events = LimitEvaluator.evaluate(apiKeyId, period, state, value(keys.get(apiKeyId)),
        rulesOf(apiKeyId), priced.event().getEventId(), time);
    months.put(monthKey, state);
    return events;
  }

  /**
   * Evaluates a month again after the key's limit or rules changed.
   *
   * @param period yyyy-MM
   * @param detectedAt the time the change is judged at: the partition's watermark
   */
  public List<LimitEvent> recheck(String apiKeyId, String period, long detectedAt) {
    String monthKey = monthKey(apiKeyId, period);
    MonthState state = months.get(monthKey);
    if (state == null) {
      return List.of();
    }
    List<LimitEvent> events = LimitEvaluator.evaluate(apiKeyId, period, state, value(keys.get(apiKeyId)),
        rulesOf(apiKeyId), null, detectedAt);
    if (!events.isEmpty()) {
      months.put(monthKey, state);
    }
    return events;
  }

  private Collection<AlertRule> rulesOf(String apiKeyId) {
    AlertRuleSet set = value(rules.get(apiKeyId));
    return set == null ? List.of() : set.getRules().values();
  }

  private static <V> V value(ValueAndTimestamp<V> stored) {
    return stored == null ? null : stored.value();
  }
}
