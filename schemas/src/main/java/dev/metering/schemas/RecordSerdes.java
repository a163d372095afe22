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
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/** One serde per record type of the design contract, all reading through the released schema history. */
public final class RecordSerdes {

  private RecordSerdes() {
  }

  /** A serde for any generated record type, writing its current schema. */
  public static <T extends SpecificRecord> AvroSerde<T> forType(Class<T> type) {
    return new AvroSerde<>(type, SpecificData.get().getSchema(type), SchemaHistory.released());
  }

  public static AvroSerde<UsageEvent> usageEvent() {
    return forType(UsageEvent.class);
  }

  public static AvroSerde<ApiKey> apiKey() {
    return forType(ApiKey.class);
  }

  public static AvroSerde<AlertRule> alertRule() {
    return forType(AlertRule.class);
  }

  public static AvroSerde<LimitEvent> limitEvent() {
    return forType(LimitEvent.class);
  }

  public static AvroSerde<UsageSpike> usageSpike() {
    return forType(UsageSpike.class);
  }

  public static AvroSerde<KeyStatus> keyStatus() {
    return forType(KeyStatus.class);
  }

  public static AvroSerde<Notification> notification() {
    return forType(Notification.class);
  }

  public static AvroSerde<OrgBudget> orgBudget() {
    return forType(OrgBudget.class);
  }

  public static AvroSerde<AuditRecord> auditRecord() {
    return forType(AuditRecord.class);
  }
}
