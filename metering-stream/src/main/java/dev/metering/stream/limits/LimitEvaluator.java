package dev.metering.stream.limits;

import dev.metering.records.AlertRule;
import dev.metering.records.LimitEvent;
import dev.metering.records.LimitEventKind;
import dev.metering.records.LimitUnit;
import dev.metering.records.state.MonthState;
import dev.metering.schemas.UsageLimits;
import dev.metering.stream.usage.Totals;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Decides which limit events a scope's month state calls for (an API key's, or its organisation's
 * against the org's budget: the same rules apply to both), and records them in the state so
 * each fires once. A key may have a token limit, a cost limit (micro-dollars), or both: a
 * THRESHOLD_CROSSED per rule, limit and month when usage first reaches the rule's percentage of
 * that limit (the event's limit_unit says which), a LIMIT_BREACHED per month when usage first
 * reaches either limit (whichever comes first), and a LIMIT_CLEARED when a breached key's limits
 * are raised above (or removed from) its usage, after which a new breach fires again. A breached
 * key whose hard_limit is switched gets LIMIT_BREACHED again with the new setting, so
 * alert-service suspends (soft to hard) or reinstates (hard to soft) it at once. Called on every usage event, api-keys update and
 * alert-rules change, so all three react at once.
 */
public final class LimitEvaluator {

  private static final String COST_SUFFIX = "/cost";
  /** LimitUnit.values() copies its array on every call; this runs for every usage event. */
  private static final LimitUnit[] UNITS = LimitUnit.values();

  private LimitEvaluator() {
  }

  /**
   * @param state the scope's month state; updated in place
   * @param key the scope's limits now (a key's or its org's budget), or null when it has none to judge
   * @param triggeringEventId the usage event that caused this evaluation, or null
   * @param detectedAt event time of what caused this evaluation
   * @return the events to emit, in order: cleared, thresholds by ascending percentage, breached
   */
  public static List<LimitEvent> evaluate(String period, MonthState state, MonthlyLimits key,
      Collection<AlertRule> rules, String triggeringEventId, long detectedAt) {
    if (key == null) {
      return List.of();
    }
    Usage usage = new Usage(Totals.totalTokens(state.getTotals()), state.getTotals().getCostMicros(),
        key.maxTokens(), key.maxCostMicros());
    List<LimitEvent> events = new ArrayList<>();
    LimitUnit reached = usage.reached();
    if (state.getBreached() && reached == null) {
      state.setBreached(false);
      state.setBreachedHardLimit(null);
      events.add(event(LimitEventKind.LIMIT_CLEARED, period, usage,
          usage.tokenLimit() != null || usage.costLimit() == null ? LimitUnit.TOKENS : LimitUnit.COST, key,
          null, null, triggeringEventId, detectedAt));
    }
    if (usage.tokenLimit() == null && usage.costLimit() == null) {
      return events;
    }
    // Rules deleted since they fired are forgotten once the list grows past what one key may have
    // (a rule fires once per unit), so a tenant creating and deleting rules cannot grow the month's
    // state without bound. Not on every evaluation: a rule rewritten in place leaves the set for a
    // moment, and would fire again.
    if (state.getFiredRuleIds().size() > 2 * UsageLimits.MAX_ALERT_RULES_PER_KEY) {
      Set<String> current = new HashSet<>();
      rules.forEach(rule -> current.add(rule.getId()));
      // a decoded state's list is Avro's, which cannot remove: replace it
      state.setFiredRuleIds(new ArrayList<>(state.getFiredRuleIds().stream()
          .filter(fired -> current.contains(ruleIdOf(fired))).toList()));
    }
    List<AlertRule> ordered = new ArrayList<>(rules);
    ordered.sort(Comparator.comparingInt(AlertRule::getThresholdPercent).thenComparing(AlertRule::getId));
    for (AlertRule rule : ordered) {
      for (LimitUnit unit : UNITS) {
        String fired = firedId(rule.getId(), unit);
        Long limit = usage.limit(unit);
        if (limit != null && reachedPercent(usage.used(unit), rule.getThresholdPercent(), limit)
            && !state.getFiredRuleIds().contains(fired)) {
          state.getFiredRuleIds().add(fired);
          events.add(event(LimitEventKind.THRESHOLD_CROSSED, period, usage, unit, key,
              rule.getId(), rule.getThresholdPercent(), triggeringEventId, detectedAt));
        }
      }
    }
    if (state.getBreached() && state.getBreachedHardLimit() == null) {
      // a breach recorded before the setting was kept: it was announced with the key's setting then
      state.setBreachedHardLimit(key.hardLimit());
    }
    boolean enforcementChanged = state.getBreached() && state.getBreachedHardLimit() != key.hardLimit();
    if ((!state.getBreached() || enforcementChanged) && reached != null) {
      state.setBreached(true);
      state.setBreachedHardLimit(key.hardLimit());
      events.add(event(LimitEventKind.LIMIT_BREACHED, period, usage, reached, key,
          null, null, triggeringEventId, detectedAt));
    }
    return events;
  }

  /** The month's use and the key's limits in both units; a limit is null where the key has none. */
  private record Usage(long tokens, long costMicros, Long tokenLimit, Long costLimit) {
    long used(LimitUnit unit) {
      return unit == LimitUnit.TOKENS ? tokens : costMicros;
    }

    Long limit(LimitUnit unit) {
      return unit == LimitUnit.TOKENS ? tokenLimit : costLimit;
    }

    /** The limit reached, tokens first when both are; null when neither is. */
    LimitUnit reached() {
      if (tokenLimit != null && tokens >= tokenLimit) {
        return LimitUnit.TOKENS;
      }
      return costLimit != null && costMicros >= costLimit ? LimitUnit.COST : null;
    }
  }

  /** A rule's entry in fired_rule_ids: its id for the token limit (as before cost limits), id + "/cost" for the cost limit. */
  private static String firedId(String ruleId, LimitUnit unit) {
    return unit == LimitUnit.TOKENS ? ruleId : ruleId + COST_SUFFIX;
  }

  private static String ruleIdOf(String firedId) {
    return firedId.endsWith(COST_SUFFIX) ? firedId.substring(0, firedId.length() - COST_SUFFIX.length()) : firedId;
  }

  private static LimitEvent event(LimitEventKind kind, String period, Usage usage, LimitUnit unit,
      MonthlyLimits key, String ruleId, Integer threshold, String triggeringEventId, long detectedAt) {
    Long limit = usage.limit(unit);
    long used = usage.used(unit);
    return LimitEvent.newBuilder()
        .setKind(kind)
        .setScope(key.scope())
        .setOrgId(key.orgId())
        .setApiKeyId(key.apiKeyId())
        .setPeriod(period)
        .setUsedTokens(usage.tokens())
        .setLimitTokens(usage.tokenLimit() == null ? 0 : usage.tokenLimit())
        .setPercent(limit == null || limit == 0 ? 100.0 : used * 100.0 / limit)
        .setRuleId(ruleId)
        .setThresholdPercent(threshold)
        .setHardLimit(key.hardLimit())
        .setTriggeringEventId(triggeringEventId)
        .setDetectedAt(detectedAt)
        .setLimitUnit(unit)
        .setUsedCostMicros(usage.costMicros())
        .setLimitCostMicros(usage.costLimit())
        .build();
  }

  /**
   * used / limit >= percent / 100, in integers: exact at the boundary, and without overflow
   * whatever the limit (admin-api bounds new limits, but a key's stored limit is not re-checked).
   */
  static boolean reachedPercent(long used, int percent, long limit) {
    if (used <= Long.MAX_VALUE / 100 && limit <= Long.MAX_VALUE / 100) {
      return used * 100 >= (long) percent * limit;
    }
    return java.math.BigInteger.valueOf(used).multiply(java.math.BigInteger.valueOf(100))
        .compareTo(java.math.BigInteger.valueOf(percent).multiply(java.math.BigInteger.valueOf(limit))) >= 0;
  }
}
