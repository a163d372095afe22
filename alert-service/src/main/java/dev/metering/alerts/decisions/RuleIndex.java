package dev.metering.alerts.decisions;

import dev.metering.records.AlertRule;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The alert rules known now, indexed the ways alert decisions look them up: by id, by key, by
 * organisation and by organisation budget. It is fed every alert-rules record ({@link #update}),
 * so a lookup costs the rules it returns rather than every rule of every organisation:
 * alert-service looks rules up for each limit and spike event, and scanning them all (20,000
 * rules for the bench's 10,000 keys) cost it about 15 ms of CPU per suspension. Lookups may run
 * on other threads than updates; a rule updated in place is never missing from its key's or
 * organisation's rules meanwhile.
 */
public final class RuleIndex {

  private static final Comparator<AlertRule> BY_ID = Comparator.comparing(AlertRule::getId);

  private final Map<String, AlertRule> byId = new ConcurrentHashMap<>();
  private final Bucketed byKey = new Bucketed(AlertRule::getApiKeyId);
  private final Bucketed byOrg = new Bucketed(AlertRule::getOrgId);
  /** The rules on an organisation's budget (those without a key), by org. */
  private final Bucketed byBudget = new Bucketed(rule -> rule.getApiKeyId() == null ? rule.getOrgId() : null);
  private final List<Bucketed> indexes = List.of(byKey, byOrg, byBudget);

  /** Rules grouped by a bucket of theirs (a rule without one is left out), by rule id within a bucket. */
  private record Bucketed(Function<AlertRule, String> bucketOf, Map<String, Map<String, AlertRule>> buckets) {

    Bucketed(Function<AlertRule, String> bucketOf) {
      this(bucketOf, new ConcurrentHashMap<>());
    }

    List<AlertRule> get(String bucket) {
      Map<String, AlertRule> rules = buckets.get(bucket);
      return rules == null ? List.of() : rules.values().stream().sorted(BY_ID).toList();
    }

    /**
     * Files the latest version of a rule ({@code rule}, null once deleted) where it belongs, then
     * takes {@code previous} out of a bucket it no longer belongs to.
     */
    void update(String ruleId, AlertRule previous, AlertRule rule) {
      String now = rule == null ? null : bucketOf.apply(rule);
      String was = previous == null ? null : bucketOf.apply(previous);
      if (now != null) {
        buckets.computeIfAbsent(now, b -> new ConcurrentHashMap<>()).put(ruleId, rule);
      }
      if (was != null && !was.equals(now)) {
        buckets.computeIfPresent(was, (b, rules) -> {
          rules.remove(ruleId);
          return rules.isEmpty() ? null : rules;
        });
      }
    }
  }

  /** An index of {@code rules}, for callers that know them all up front. */
  public static RuleIndex of(List<AlertRule> rules) {
    RuleIndex index = new RuleIndex();
    rules.forEach(rule -> index.update(rule.getId(), rule));
    return index;
  }

  /**
   * Applies an alert-rules record: {@code rule} is the latest version of rule {@code ruleId}, or
   * null once it was deleted (a tombstone).
   */
  public synchronized void update(String ruleId, AlertRule rule) {
    AlertRule previous = rule == null ? byId.remove(ruleId) : byId.put(ruleId, rule);
    // filed (or replaced in place) before the previous version leaves a bucket it no longer belongs to
    indexes.forEach(index -> index.update(ruleId, previous, rule));
  }

  public Optional<AlertRule> rule(String ruleId) {
    return Optional.ofNullable(byId.get(ruleId));
  }

  /** The rules on one key's limits, by id. */
  public List<AlertRule> forKey(String apiKeyId) {
    return byKey.get(apiKeyId);
  }

  /** The rules on the organisation's budget: those without a key, by id. */
  public List<AlertRule> forOrgBudget(String orgId) {
    return byBudget.get(orgId);
  }

  /** Every rule of the organisation, on its keys and on its budget, by id: the audience of org-wide spikes. */
  public List<AlertRule> forOrg(String orgId) {
    return byOrg.get(orgId);
  }
}
