package dev.metering.stream;

import dev.metering.records.AlertRule;
import dev.metering.records.ApiKey;
import dev.metering.records.LimitEvent;
import dev.metering.records.LimitEventKind;
import dev.metering.records.LimitScope;
import dev.metering.records.OrgBudget;
import dev.metering.records.UsageEvent;
import dev.metering.records.state.UsageTotals;
import dev.metering.stream.pricing.PriceBook;
import dev.metering.stream.usage.Periods;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;

/**
 * A reproducible stream of usage events for a few orgs and keys, with the totals and limit
 * events it must produce computed here, independently of the topology.
 */
public final class Workload {

  /** Expected totals of one bucket. */
  public record Expected(long input, long output, long cacheCreation, long cacheRead, long costMicros, long requests) {
    public static Expected of(UsageTotals totals) {
      return new Expected(totals.getInputTokens(), totals.getOutputTokens(), totals.getCacheCreationInputTokens(),
          totals.getCacheReadInputTokens(), totals.getCostMicros(), totals.getRequests());
    }

    Expected plus(UsageEvent e, long cost) {
      return new Expected(input + e.getInputTokens(), output + e.getOutputTokens(),
          cacheCreation + e.getCacheCreationInputTokens(), cacheRead + e.getCacheReadInputTokens(),
          costMicros + cost, requests + 1);
    }

    public long total() {
      return input + output + cacheCreation + cacheRead;
    }
  }

  /** A limit event as identity: whose limit (a key id, or "org:" and the org id), kind, rule and month. */
  public record ExpectedLimitEvent(String scope, LimitEventKind kind, String ruleId, String period) {
    public static ExpectedLimitEvent of(LimitEvent event) {
      return new ExpectedLimitEvent(event.getScope() == LimitScope.ORG ? "org:" + event.getOrgId()
          : event.getApiKeyId(), event.getKind(), event.getRuleId(), event.getPeriod());
    }
  }

  static final String[] MODELS = {"claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-5", "unlisted-model"};

  public final List<ApiKey> keys = new ArrayList<>();
  /** Key rules and the orgs' budget rules (no key). */
  public final List<AlertRule> rules = new ArrayList<>();
  /** org-0 has a hard token budget, org-1 a soft cost budget, each reached in the workload's busiest month. */
  public final List<OrgBudget> budgets = new ArrayList<>();
  public final List<UsageEvent> events = new ArrayList<>();
  /**
   * When the keys, rules and budgets were created: a day before the first event. Their records
   * carry it, as a backfill's should (docs/design.md, "Backfilling history"), so a task takes them
   * before the usage they limit whenever both are buffered; dated now, they came after every event
   * of the history, and a rule read after its month had closed never fired for it.
   */
  public final long created;
  private final PriceBook prices = PriceBook.bundled();

  /**
   * @param keyCount keys, spread over two orgs; every third key has no limit
   * @param eventCount distinct events, dated between {@code from} and {@code to} (epoch millis)
   */
  public Workload(long seed, int keyCount, int eventCount, long from, long to) {
    this.created = from - Duration.ofDays(1).toMillis();
    Random random = new Random(seed);
    for (int k = 0; k < keyCount; k++) {
      String id = "key-" + k;
      Long limit = k % 3 == 2 ? null : 200_000L + random.nextInt(1_800_000);
      keys.add(MeteringFixture.key(id, limit, k % 2 == 0));
      keys.get(k).setOrgId("org-" + (k % 2));
      if (k % 4 == 0) {
        rules.add(rule("rule-" + k + "-50", id, 50, k));
        rules.add(rule("rule-" + k + "-90", id, 90, k));
      }
    }
    for (int i = 0; i < eventCount; i++) {
      ApiKey key = keys.get(random.nextInt(keyCount));
      UsageEvent event = UsageEvent.newBuilder()
          .setEventId(UUID.nameUUIDFromBytes(("event-" + seed + "-" + i).getBytes()).toString())
          .setOrgId(key.getOrgId())
          .setApiKeyId(key.getId())
          .setModel(MODELS[random.nextInt(MODELS.length)])
          .setInputTokens(random.nextInt(4000))
          .setOutputTokens(random.nextInt(1000))
          .setCacheCreationInputTokens(random.nextInt(10) == 0 ? random.nextInt(2000) : 0)
          .setCacheReadInputTokens(random.nextInt(3) == 0 ? random.nextInt(8000) : 0)
          .setTimestamp(from + (long) (random.nextDouble() * (to - from)))
          .setGatewayId("gw-" + random.nextInt(3))
          .build();
      events.add(event);
    }
    Map<String, Long> orgTokens = new HashMap<>();
    Map<String, Long> orgCost = new HashMap<>();
    for (UsageEvent e : events) {
      String orgMonth = e.getOrgId() + "|" + Periods.month(e.getTimestamp());
      orgTokens.merge(orgMonth, tokens(e), Long::sum);
      orgCost.merge(orgMonth, cost(e), Long::sum);
    }
    long busiestTokens = orgTokens.entrySet().stream().filter(m -> m.getKey().startsWith("org-0|"))
        .mapToLong(Map.Entry::getValue).max().orElse(0);
    long busiestCost = orgCost.entrySet().stream().filter(m -> m.getKey().startsWith("org-1|"))
        .mapToLong(Map.Entry::getValue).max().orElse(0);
    budgets.add(budget("org-0", Math.max(1, busiestTokens * 6 / 10), null, true));
    budgets.add(budget("org-1", null, Math.max(1, busiestCost * 6 / 10), false));
    rules.add(orgRule("rule-org-0-50", "org-0", 50));
    rules.add(orgRule("rule-org-0-90", "org-0", 90));
    rules.add(orgRule("rule-org-1-50", "org-1", 50));
  }

  private static OrgBudget budget(String orgId, Long tokens, Long costMicros, boolean hard) {
    return OrgBudget.newBuilder().setOrgId(orgId).setMaxTokensPerMonth(tokens).setMaxCostMicrosPerMonth(costMicros)
        .setHardLimit(hard).setUpdatedBy("admin@example.com").setUpdatedAt(0L).build();
  }

  private static AlertRule orgRule(String id, String orgId, int threshold) {
    AlertRule rule = MeteringFixture.rule(id, null, threshold);
    rule.setOrgId(orgId);
    return rule;
  }

  private static long tokens(UsageEvent e) {
    return e.getInputTokens() + e.getOutputTokens() + e.getCacheCreationInputTokens() + e.getCacheReadInputTokens();
  }

  private static AlertRule rule(String id, String apiKeyId, int threshold, int k) {
    AlertRule rule = MeteringFixture.rule(id, apiKeyId, threshold);
    rule.setOrgId("org-" + (k % 2));
    return rule;
  }

  /** Expected totals per scope id (key or org) and bucket start. */
  public Map<String, Map<Long, Expected>> expectedDaily(boolean byOrg) {
    Map<String, Map<Long, Expected>> totals = new TreeMap<>();
    for (UsageEvent e : events) {
      String id = byOrg ? e.getOrgId() : e.getApiKeyId();
      totals.computeIfAbsent(id, x -> new TreeMap<>())
          .merge(Periods.dayStart(e.getTimestamp()), new Expected(0, 0, 0, 0, 0, 0).plus(e, cost(e)),
              (a, b) -> new Expected(a.input + b.input, a.output + b.output, a.cacheCreation + b.cacheCreation,
                  a.cacheRead + b.cacheRead, a.costMicros + b.costMicros, a.requests + b.requests));
    }
    return totals;
  }

  /** Every limit event the workload must cause exactly once, given limits and budgets that never change. */
  public List<ExpectedLimitEvent> expectedLimitEvents() {
    Map<String, Long> monthTotals = new HashMap<>();
    Map<String, Long> orgTokens = new HashMap<>();
    Map<String, Long> orgCost = new HashMap<>();
    for (UsageEvent e : events) {
      monthTotals.merge(e.getApiKeyId() + "|" + Periods.month(e.getTimestamp()), tokens(e), Long::sum);
      orgTokens.merge(e.getOrgId() + "|" + Periods.month(e.getTimestamp()), tokens(e), Long::sum);
      orgCost.merge(e.getOrgId() + "|" + Periods.month(e.getTimestamp()), cost(e), Long::sum);
    }
    List<ExpectedLimitEvent> expected = new ArrayList<>();
    orgTokens.forEach((orgMonth, used) -> {
      String orgId = orgMonth.substring(0, orgMonth.indexOf('|'));
      String period = orgMonth.substring(orgMonth.indexOf('|') + 1);
      long usedCost = orgCost.get(orgMonth);
      OrgBudget budget = budgets.stream().filter(b -> b.getOrgId().equals(orgId)).findFirst().orElseThrow();
      Long tokenLimit = budget.getMaxTokensPerMonth();
      Long costLimit = budget.getMaxCostMicrosPerMonth();
      for (AlertRule rule : rules) {
        if (rule.getApiKeyId() == null && rule.getOrgId().equals(orgId)) {
          // a rule fires once for each of the budget's limits it reaches
          if (tokenLimit != null && used * 100 >= (long) rule.getThresholdPercent() * tokenLimit) {
            expected.add(new ExpectedLimitEvent("org:" + orgId, LimitEventKind.THRESHOLD_CROSSED, rule.getId(), period));
          }
          if (costLimit != null && usedCost * 100 >= (long) rule.getThresholdPercent() * costLimit) {
            expected.add(new ExpectedLimitEvent("org:" + orgId, LimitEventKind.THRESHOLD_CROSSED, rule.getId(), period));
          }
        }
      }
      if ((tokenLimit != null && used >= tokenLimit) || (costLimit != null && usedCost >= costLimit)) {
        expected.add(new ExpectedLimitEvent("org:" + orgId, LimitEventKind.LIMIT_BREACHED, null, period));
      }
    });
    monthTotals.forEach((keyMonth, used) -> {
      String keyId = keyMonth.substring(0, keyMonth.indexOf('|'));
      String period = keyMonth.substring(keyMonth.indexOf('|') + 1);
      ApiKey key = keys.stream().filter(k -> k.getId().equals(keyId)).findFirst().orElseThrow();
      Long limit = key.getMaxTokensPerMonth();
      if (limit == null) {
        return;
      }
      for (AlertRule rule : rules) {
        if (keyId.equals(rule.getApiKeyId()) && used * 100 >= (long) rule.getThresholdPercent() * limit) {
          expected.add(new ExpectedLimitEvent(keyId, LimitEventKind.THRESHOLD_CROSSED, rule.getId(), period));
        }
      }
      if (used >= limit) {
        expected.add(new ExpectedLimitEvent(keyId, LimitEventKind.LIMIT_BREACHED, null, period));
      }
    });
    return expected;
  }

  /** The event's cost in micro-dollars by the bundled price list. */
  public long cost(UsageEvent e) {
    return prices.quote(e.getModel(), e.getTimestamp()).prices().costMicros(e.getInputTokens(), e.getOutputTokens(),
        e.getCacheCreationInputTokens(), e.getCacheReadInputTokens());
  }
}
