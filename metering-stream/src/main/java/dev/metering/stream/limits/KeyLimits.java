package dev.metering.stream.limits;

import dev.metering.records.ApiKey;
import dev.metering.stream.usage.Progress;
import org.apache.kafka.streams.processor.api.ProcessingContext;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;

/** The stores of an API key's month and limits, in the task of the key's usage-events partition. */
public final class KeyLimits {

  /** Month totals and emitted-event flags, keyed {@code api_key_id|yyyy-MM}. */
  public static final String MONTH_STORE = "key-month-totals";
  /** Latest api-keys record per key (the api-keys table). */
  public static final String API_KEYS_STORE = "api-keys-table";
  /** Alert rules per key, aggregated from alert-rules by api_key_id. */
  public static final String RULES_BY_KEY_STORE = "alert-rules-by-key";

  /** The key scope as a recheck sees it: its stores and the watermark it judges changes at. */
  public static final LimitStores STORES = new LimitStores(MONTH_STORE, API_KEYS_STORE, RULES_BY_KEY_STORE,
      Progress.INGEST_STORE, KeyLimits::open);

  private KeyLimits() {
  }

  /** Opens the key scope's stores in a processor's context. */
  public static MonthLimits open(ProcessingContext context) {
    TimestampedKeyValueStore<String, ApiKey> keys = context.getStateStore(API_KEYS_STORE);
    return MonthLimits.open(context, MONTH_STORE, id -> MonthlyLimits.of(id, MonthLimits.value(keys.get(id))),
        RULES_BY_KEY_STORE);
  }

  public static String monthKey(String apiKeyId, String period) {
    return MonthLimits.monthKey(apiKeyId, period);
  }

  /** The stores a processor using {@link #open} must be connected to. */
  public static String[] storeNames() {
    return STORES.limitStores();
  }
}
