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
import dev.metering.records.state.AlertRuleSet;
import dev.metering.records.state.ModelUsage;
import dev.metering.records.state.MonthState;
import dev.metering.records.state.UsageTotals;
import java.util.List;
import org.apache.avro.Schema;

/** The record types of the design contract, in one list. */
final class Records {

  static final List<Schema> CURRENT_SCHEMAS = List.of(
      UsageEvent.getClassSchema(), ApiKey.getClassSchema(), AlertRule.getClassSchema(),
      LimitEvent.getClassSchema(), UsageSpike.getClassSchema(), KeyStatus.getClassSchema(),
      Notification.getClassSchema(), AuditRecord.getClassSchema(), OrgBudget.getClassSchema(),
      // internal state of metering-stream, versioned like the rest so stores survive upgrades
      ModelUsage.getClassSchema(), UsageTotals.getClassSchema(), MonthState.getClassSchema(),
      AlertRuleSet.getClassSchema());

  private Records() {
  }
}
