package dev.metering.alerts.decisions;

import dev.metering.records.AlertRule;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;

/** The alert rules known now, looked up the ways alert decisions need. */
public final class RuleIndex {

  private final Supplier<Stream<AlertRule>> rules;

  /** {@code rules} is streamed on every lookup, so it may be a live view. */
  public RuleIndex(Supplier<Stream<AlertRule>> rules) {
    this.rules = rules;
  }

  public static RuleIndex of(List<AlertRule> rules) {
    return new RuleIndex(rules::stream);
  }

  public Optional<AlertRule> rule(String ruleId) {
    return rules.get().filter(r -> r.getId().equals(ruleId)).findFirst();
  }

  /** The rules on one key's limits. */
  public List<AlertRule> forKey(String apiKeyId) {
    return rules.get().filter(r -> apiKeyId.equals(r.getApiKeyId())).toList();
  }

  /** The rules on the organisation's budget: those without a key. */
  public List<AlertRule> forOrgBudget(String orgId) {
    return rules.get().filter(r -> r.getApiKeyId() == null && r.getOrgId().equals(orgId)).toList();
  }

  /** Every rule of the organisation, on its keys and on its budget: the audience of org-wide spikes. */
  public List<AlertRule> forOrg(String orgId) {
    return rules.get().filter(r -> r.getOrgId().equals(orgId)).toList();
  }
}
