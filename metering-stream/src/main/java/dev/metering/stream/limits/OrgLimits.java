package dev.metering.stream.limits;

import dev.metering.records.OrgBudget;
import dev.metering.stream.usage.Progress;
import org.apache.kafka.streams.processor.api.ProcessingContext;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;

/**
 * The stores of an organisation's month and budget, in the org task (usage repartitioned by
 * org_id): the org-budgets table and the org's own rules (alert rules without an api_key_id,
 * aggregated by org_id) are partitioned as that repartition is.
 */
public final class OrgLimits {

  /** The org's month totals and emitted-event flags, keyed {@code org_id|yyyy-MM}. */
  public static final String MONTH_STORE = "org-month-totals";
  /** Latest org-budgets record per org (the org-budgets table). */
  public static final String BUDGETS_STORE = "org-budgets-table";
  /** The org's own alert rules, aggregated from alert-rules by org_id. */
  public static final String RULES_BY_ORG_STORE = "alert-rules-by-org";

  public static final LimitStores STORES = new LimitStores(MONTH_STORE, BUDGETS_STORE, RULES_BY_ORG_STORE,
      Progress.ORG_STORE, OrgLimits::open);

  private OrgLimits() {
  }

  /** Opens the org scope's stores in a processor's context. */
  public static MonthLimits open(ProcessingContext context) {
    TimestampedKeyValueStore<String, OrgBudget> budgets = context.getStateStore(BUDGETS_STORE);
    return MonthLimits.open(context, MONTH_STORE, id -> MonthlyLimits.of(MonthLimits.value(budgets.get(id))),
        RULES_BY_ORG_STORE);
  }

  /** The stores a processor using {@link #open} must be connected to. */
  public static String[] storeNames() {
    return STORES.limitStores();
  }
}
