package dev.metering.admin.alerts;

import dev.metering.admin.ChangeWriter;
import dev.metering.admin.TopicTable;
import dev.metering.records.AlertRule;
import dev.metering.schemas.Topics;
import java.util.Comparator;
import java.util.List;

/** The alert-rules table: a live view with this instance's own writes applied at once. */
public final class RuleStore extends TopicTable<AlertRule> {

  public RuleStore(String bootstrapServers, ChangeWriter writer) {
    super(bootstrapServers, writer, Topics.ALERT_RULES, AlertRule::getId, AlertRule::getOrgId);
  }

  /** The org's rules, on its keys and on its budget, newest first. */
  public List<AlertRule> ofOrg(String orgId) {
    return ofGroup(orgId).stream()
        .sorted(Comparator.comparingLong(AlertRule::getCreatedAt).reversed().thenComparing(AlertRule::getId))
        .toList();
  }
}
