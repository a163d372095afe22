package dev.metering.schemas;

import dev.metering.records.AlertRule;
import dev.metering.records.ApiKey;
import dev.metering.records.AuditRecord;
import dev.metering.records.KeyStatus;
import dev.metering.records.LimitEvent;
import dev.metering.records.Notification;
import dev.metering.records.OrgBudget;
import dev.metering.records.UsageEvent;
import dev.metering.records.UsageSpike;
import java.util.List;
import org.apache.kafka.common.serialization.Serdes;

/** Every topic of the design contract: its name, key serde and value serde, in one place. */
public final class Topics {

  /** Keyed by api_key_id; co-partitioned with {@link #API_KEYS}. */
  public static final Topic<String, UsageEvent> USAGE_EVENTS =
      new Topic<>("usage-events", Serdes.String(), RecordSerdes.usageEvent());

  /** Rejected usage events: the original key and bytes, with reason headers. */
  public static final Topic<byte[], byte[]> USAGE_EVENTS_DLQ =
      new Topic<>("usage-events-dlq", Serdes.ByteArray(), Serdes.ByteArray());

  /** Compacted latest state per api_key_id. */
  public static final Topic<String, ApiKey> API_KEYS =
      new Topic<>("api-keys", Serdes.String(), RecordSerdes.apiKey());

  /** Compacted per rule_id; a tombstone deletes the rule. */
  public static final Topic<String, AlertRule> ALERT_RULES =
      new Topic<>("alert-rules", Serdes.String(), RecordSerdes.alertRule());

  /**
   * Compacted latest budget per org_id. Co-partitioned with usage-events' repartition by org_id
   * (same partition count, default partitioner), so an org's budget is read in its org task.
   */
  public static final Topic<String, OrgBudget> ORG_BUDGETS =
      new Topic<>("org-budgets", Serdes.String(), RecordSerdes.orgBudget());

  /** Keyed by api_key_id, or by org_id for an organisation budget's events (scope ORG). */
  public static final Topic<String, LimitEvent> LIMIT_EVENTS =
      new Topic<>("limit-events", Serdes.String(), RecordSerdes.limitEvent());

  /** Keyed by api_key_id, or by org_id for org-wide spikes. */
  public static final Topic<String, UsageSpike> SPIKE_EVENTS =
      new Topic<>("spike-events", Serdes.String(), RecordSerdes.usageSpike());

  /** Compacted enforcement state per api_key_id, and per org_id for an organisation's budget suspension. */
  public static final Topic<String, KeyStatus> KEY_STATUS =
      new Topic<>("key-status", Serdes.String(), RecordSerdes.keyStatus());

  /** Outbox of alerts to deliver, keyed by notification id. */
  public static final Topic<String, Notification> NOTIFICATIONS =
      new Topic<>("notifications", Serdes.String(), RecordSerdes.notification());

  /** Append-only audit log keyed by org_id. */
  public static final Topic<String, AuditRecord> AUDIT_LOG =
      new Topic<>("audit-log", Serdes.String(), RecordSerdes.auditRecord());

  public static final List<Topic<?, ?>> ALL = List.of(
      USAGE_EVENTS, USAGE_EVENTS_DLQ, API_KEYS, ALERT_RULES, ORG_BUDGETS, LIMIT_EVENTS,
      SPIKE_EVENTS, KEY_STATUS, NOTIFICATIONS, AUDIT_LOG);

  private Topics() {
  }
}
