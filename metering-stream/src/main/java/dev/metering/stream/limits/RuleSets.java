package dev.metering.stream.limits;

import dev.metering.records.AlertRule;
import dev.metering.records.state.AlertRuleSet;
import java.util.HashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Aggregates alert rules into one {@link AlertRuleSet} per API key, a value that must stay small:
 * it is stored, logged to a changelog and read on every usage event of the key. admin-api refuses
 * rules beyond its per-key limit; a rule that reaches alert-rules anyway (another writer, a limit
 * lowered later) is ignored here with a warning rather than grow the value without bound.
 */
public final class RuleSets {

  /** A rule's strings beyond this are not a rule admin-api wrote: it is ignored. */
  static final int MAX_RULE_STRING = 2048;

  private static final Logger log = LoggerFactory.getLogger(RuleSets.class);

  private final int maxRulesPerKey;

  public RuleSets(int maxRulesPerKey) {
    this.maxRulesPerKey = maxRulesPerKey;
  }

  public static AlertRuleSet empty() {
    return new AlertRuleSet(new HashMap<>());
  }

  public AlertRuleSet add(String apiKeyId, AlertRule rule, AlertRuleSet set) {
    boolean replaces = set.getRules().containsKey(rule.getId());
    if (!replaces && set.getRules().size() >= maxRulesPerKey) {
      log.warn("ignoring alert rule {} of API key {}: the key already has {} rules (METERING_MAX_RULES_PER_KEY)",
          rule.getId(), apiKeyId, set.getRules().size());
      return set;
    }
    if (tooLarge(rule)) {
      log.warn("ignoring alert rule {} of API key {}: a field is longer than {} characters",
          abbreviate(rule.getId()), abbreviate(apiKeyId), MAX_RULE_STRING);
      return set;
    }
    set.getRules().put(rule.getId(), rule);
    return set;
  }

  public AlertRuleSet remove(String apiKeyId, AlertRule rule, AlertRuleSet set) {
    set.getRules().remove(rule.getId());
    return set;
  }

  private static boolean tooLarge(AlertRule rule) {
    for (String value : new String[] {rule.getId(), rule.getOrgId(), rule.getName(), rule.getApiKeyId(),
        rule.getNotificationEmail(), rule.getWebhookUrl(), rule.getCreatedBy()}) {
      if (value != null && value.length() > MAX_RULE_STRING) {
        return true;
      }
    }
    return false;
  }

  private static String abbreviate(String value) {
    return value.length() <= 64 ? value : value.substring(0, 64) + "...";
  }
}
