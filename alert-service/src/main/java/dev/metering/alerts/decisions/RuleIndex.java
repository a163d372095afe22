package dev.metering.alerts.decisions;

import dev.metering.records.AlertRule;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/** The alert rules known now, looked up the ways alert decisions need. */
public final class RuleIndex {

  private final Supplier<Collection<AlertRule>> rules;

  /** {@code rules} is read on every lookup, so it may be a live view. */
  public RuleIndex(Supplier<Collection<AlertRule>> rules) {
    this.rules = rules;
  }

  public static RuleIndex of(List<AlertRule> rules) {
    return new RuleIndex(() -> rules);
  }

  public Optional<AlertRule> rule(String ruleId) {
    return rules.get().stream().filter(r -> r.getId().equals(ruleId)).findFirst();
  }

  public List<AlertRule> forKey(String apiKeyId) {
    return rules.get().stream().filter(r -> r.getApiKeyId().equals(apiKeyId)).toList();
  }

  public List<AlertRule> forOrg(String orgId) {
    return rules.get().stream().filter(r -> r.getOrgId().equals(orgId)).toList();
  }
}
