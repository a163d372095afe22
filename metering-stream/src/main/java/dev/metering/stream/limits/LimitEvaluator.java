package dev.metering.stream.limits;

import dev.metering.records.AlertRule;
import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.LimitEvent;
import dev.metering.records.LimitEventKind;
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
 * Decides which limit events a key's month state calls for, and records them in the state so
 * each fires once: a THRESHOLD_CROSSED per rule and month when usage first reaches the rule's
 * percentage of the limit, a LIMIT_BREACHED per month when usage first reaches the limit, and a
 * LIMIT_CLEARED when a breached key's limit is raised above (or removed from) its usage, after
 * which a new breach of the new limit fires again. A breached key whose hard_limit is switched
 * gets LIMIT_BREACHED again with the new setting, so alert-service suspends (soft to hard) or
 * reinstates (hard to soft) it at once. Called on every usage event, api-keys update and
 * alert-rules change, so all three react at once.
 */
public final class LimitEvaluator {

  private LimitEvaluator() {
  }

  /**
   * @param state the key's month state; updated in place
   * @param key the key's latest api-keys record, or null if none was seen
   * @param triggeringEventId the usage event that caused this evaluation, or null
   * @param detectedAt event time of what caused this evaluation
   * @return the events to emit, in order: cleared, thresholds by ascending percentage, breached
   */
  public static List<LimitEvent> evaluate(String apiKeyId, String period, MonthState state, ApiKey key,
      Collection<AlertRule> rules, String triggeringEventId, long detectedAt) {
    if (key == null || key.getStatus() == ApiKeyStatus.REVOKED) {
      return List.of();
    }
    List<LimitEvent> events = new ArrayList<>();
    Long limit = key.getMaxTokensPerMonth();
    long used = Totals.totalTokens(state.getTotals());
    if (state.getBreached() && (limit == null || used < limit)) {
      state.setBreached(false);
      state.setBreachedHardLimit(null);
      events.add(event(LimitEventKind.LIMIT_CLEARED, apiKeyId, period, state, key, used, limit == null ? 0 : limit,
          null, null, triggeringEventId, detectedAt));
    }
    if (limit == null) {
      return events;
    }
    // Rules deleted since they fired are forgotten once the list grows past what one key may have,
    // so a tenant creating and deleting rules cannot grow the month's state without bound. Not on
    // every evaluation: a rule rewritten in place leaves the set for a moment, and would fire again.
    if (state.getFiredRuleIds().size() > UsageLimits.MAX_ALERT_RULES_PER_KEY) {
      Set<String> current = new HashSet<>();
      rules.forEach(rule -> current.add(rule.getId()));
      // a decoded state's list is Avro's, which cannot remove: replace it
      state.setFiredRuleIds(new ArrayList<>(state.getFiredRuleIds().stream().filter(current::contains).toList()));
    }
    List<AlertRule> ordered = new ArrayList<>(rules);
    ordered.sort(Comparator.comparingInt(AlertRule::getThresholdPercent).thenComparing(AlertRule::getId));
    for (AlertRule rule : ordered) {
      boolean reached = reachedPercent(used, rule.getThresholdPercent(), limit);
      if (reached && !state.getFiredRuleIds().contains(rule.getId())) {
        state.getFiredRuleIds().add(rule.getId());
        events.add(event(LimitEventKind.THRESHOLD_CROSSED, apiKeyId, period, state, key, used, limit,
            rule.getId(), rule.getThresholdPercent(), triggeringEventId, detectedAt));
      }
    }
    if (state.getBreached() && state.getBreachedHardLimit() == null) {
      // a breach recorded before the setting was kept: it was announced with the key's setting then
      state.setBreachedHardLimit(key.getHardLimit());
    }
    boolean enforcementChanged = state.getBreached() && state.getBreachedHardLimit() != key.getHardLimit();
    if ((!state.getBreached() || enforcementChanged) && used >= limit) {
      state.setBreached(true);
      state.setBreachedHardLimit(key.getHardLimit());
      events.add(event(LimitEventKind.LIMIT_BREACHED, apiKeyId, period, state, key, used, limit,
          null, null, triggeringEventId, detectedAt));
    }
    return events;
  }

  private static LimitEvent event(LimitEventKind kind, String apiKeyId, String period, MonthState state, ApiKey key,
      long used, long limit, String ruleId, Integer threshold, String triggeringEventId, long detectedAt) {
    return LimitEvent.newBuilder()
        .setKind(kind)
        .setOrgId(key.getOrgId())
        .setApiKeyId(apiKeyId)
        .setPeriod(period)
        .setUsedTokens(used)
        .setLimitTokens(limit)
        .setPercent(limit == 0 ? 100.0 : used * 100.0 / limit)
        .setRuleId(ruleId)
        .setThresholdPercent(threshold)
        .setHardLimit(key.getHardLimit())
        .setTriggeringEventId(triggeringEventId)
        .setDetectedAt(detectedAt)
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
