package dev.metering.admin.alerts;

import dev.metering.admin.ChangeWriter;
import dev.metering.kafka.TopicView;
import dev.metering.records.AlertRule;
import dev.metering.records.AuditRecord;
import dev.metering.schemas.Topics;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** The alert-rules table: a live view with this instance's own writes applied at once. */
public final class RuleStore implements AutoCloseable {

  private final TopicView<String, AlertRule> view;
  private final ChangeWriter writer;

  public RuleStore(String bootstrapServers, ChangeWriter writer) {
    this.writer = writer;
    this.view = TopicView.start(bootstrapServers, Topics.ALERT_RULES.name(),
        Topics.ALERT_RULES.keySerde().deserializer(), Topics.ALERT_RULES.valueSerde().deserializer(), null);
  }

  public void awaitLoaded(Duration timeout) throws InterruptedException {
    view.awaitCaughtUp(timeout);
  }

  public boolean loaded() {
    return view.isCaughtUp();
  }

  public Optional<AlertRule> get(String id) {
    return Optional.ofNullable(view.get(id));
  }

  public List<AlertRule> ofOrg(String orgId) {
    return view.values()
        .filter(rule -> rule.getOrgId().equals(orgId))
        .sorted(Comparator.comparingLong(AlertRule::getCreatedAt).reversed().thenComparing(AlertRule::getId))
        .toList();
  }

  /** Writes the rule if it is {@code expected} (null: a new rule), else answers 409. */
  public void put(AlertRule rule, List<AuditRecord> audits, AlertRule expected) {
    writer.write(Topics.ALERT_RULES.name(), rule.getId(),
        Topics.ALERT_RULES.encode(rule), audits,
        ChangeWriter.row(view, rule.getId(), expected, rule));
  }

  /** Deletes with a tombstone, as the compacted topic's contract says, if the rule still exists. */
  public void delete(AlertRule rule, List<AuditRecord> audits) {
    writer.write(Topics.ALERT_RULES.name(), rule.getId(), null, audits,
        ChangeWriter.row(view, rule.getId(), rule, null));
  }

  public boolean healthy() {
    return view.healthy();
  }

  @Override
  public void close() {
    view.close();
  }
}
