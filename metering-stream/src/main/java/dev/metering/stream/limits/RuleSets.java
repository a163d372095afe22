package dev.metering.stream.limits;

import dev.metering.records.AlertRule;
import dev.metering.records.state.AlertRuleSet;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Aggregates alert rules into one {@link AlertRuleSet} per API key, a value that must stay small:
 * it is stored, logged to a changelog and read on every usage event of the key. admin-api refuses
 * rules beyond its per-key limit; a rule that reaches alert-rules anyway (another writer, a limit
 * lowered later) is ignored here with a warning rather than grow the value without bound.
 *
 * <p>{@link #add} and {@link #remove} return a new set and never change the one they are given:
 * Kafka Streams hands the aggregator the stored set, and forwards it as the old value where a
 * downstream asks for old values; a set changed in place would be forwarded as its own old value.
 */
public final class RuleSets {

  /** A rule's strings beyond this are not a rule admin-api wrote: it is ignored. */
  static final int MAX_RULE_STRING = 2048;
  /**
   * The most a key's rules may take encoded, well below the 1 MB a changelog record may have:
   * 100 rules as admin-api writes them take under 300 KB.
   */
  static final int MAX_SET_BYTES = 512 * 1024;

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
    long others = set.getRules().values().stream().filter(r -> !r.getId().equals(rule.getId()))
        .mapToLong(RuleSets::maxEncodedBytes).sum();
    if (others + maxEncodedBytes(rule) > MAX_SET_BYTES) {
      log.warn("ignoring alert rule {} of API key {}: the key's rules would take more than {} bytes",
          rule.getId(), apiKeyId, MAX_SET_BYTES);
      return set;
    }
    Map<String, AlertRule> rules = new HashMap<>(set.getRules());
    rules.put(rule.getId(), rule);
    return new AlertRuleSet(rules);
  }

  public AlertRuleSet remove(String apiKeyId, AlertRule rule, AlertRuleSet set) {
    if (!set.getRules().containsKey(rule.getId())) {
      return set;
    }
    Map<String, AlertRule> rules = new HashMap<>(set.getRules());
    rules.remove(rule.getId());
    return new AlertRuleSet(rules);
  }

  /** An upper bound of the rule's encoded size: every character as 3 bytes of UTF-8, plus the numbers. */
  static long maxEncodedBytes(AlertRule rule) {
    long bytes = 64;
    for (String value : new String[] {rule.getId(), rule.getOrgId(), rule.getName(), rule.getApiKeyId(),
        rule.getNotificationEmail(), rule.getWebhookUrl(), rule.getCreatedBy()}) {
      bytes += value == null ? 0 : 3L * value.length() + 8;
    }
    return bytes;
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
