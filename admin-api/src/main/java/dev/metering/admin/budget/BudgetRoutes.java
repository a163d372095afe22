package dev.metering.admin.budget;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.admin.Audits;
import dev.metering.admin.TopicTable;
import dev.metering.admin.auth.Principal;
import dev.metering.admin.http.ApiError;
import dev.metering.admin.http.Body;
import dev.metering.admin.http.Route;
import dev.metering.admin.keys.KeyChanges;
import dev.metering.admin.keys.KeyStore;
import dev.metering.api.Dollars;
import dev.metering.api.admin.OrgBudgetInfo;
import dev.metering.api.admin.UpdateOrgBudget;
import dev.metering.records.KeyStatus;
import dev.metering.records.OrgBudget;
import dev.metering.schemas.AuditEventType;
import dev.metering.schemas.UsageLimits;
import io.javalin.http.Context;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The organisation's monthly budget over all its keys, in tokens and/or dollars, soft or hard.
 * metering-stream judges the org's month against it (and its rules without a key) as it does a
 * key's; a hard breach suspends every key of the org but its admin keys.
 */
public final class BudgetRoutes {

  private static final String PATH = "/v1/organizations/budget";
  private static final String TAG = "budget";

  private final TopicTable<OrgBudget> budgets;
  private final KeyStore keys;
  private final Audits audits;
  private final ObjectMapper json;
  private final Clock clock;

  public BudgetRoutes(TopicTable<OrgBudget> budgets, KeyStore keys, Audits audits, ObjectMapper json, Clock clock) {
    this.budgets = budgets;
    this.keys = keys;
    this.audits = audits;
    this.json = json;
    this.clock = clock;
  }

  public List<Route> routes() {
    return List.of(
        Route.get(TAG, PATH, "getBudget", "The organisation's monthly budget, and whether it has suspended the"
            + " organisation", List.of(), OrgBudgetInfo.class, (ctx, p) -> view(p.orgId())),
        Route.post(TAG, PATH, "updateBudget", "Set or change the organisation's monthly budget: a field left out stays"
            + " as it is, null removes it; a budget lowered below (or raised above) this month's usage breaches (or"
            + " clears) at once", UpdateOrgBudget.class, 200, OrgBudgetInfo.class, this::update));
  }

  private OrgBudgetInfo update(Context ctx, Principal principal) {
    Body body = Body.parse(json, ctx.body(), UpdateOrgBudget.class);
    if (body.has("hard_limit") && body.bool("hard_limit") == null) {
      throw ApiError.invalid("hard_limit", "hard_limit must be true or false");
    }
    Long tokens = body.positiveLong("max_tokens_per_month", UsageLimits.MAX_TOKENS_PER_MONTH);
    Long cost = body.dollars("max_cost_per_month", UsageLimits.MAX_COST_MICROS_PER_MONTH);
    Optional<OrgBudget> stored = budgets.get(principal.orgId());
    OrgBudget current = stored.orElse(null);
    Long fromTokens = current == null ? null : current.getMaxTokensPerMonth();
    Long fromCost = current == null ? null : current.getMaxCostMicrosPerMonth();
    boolean fromHard = current != null && current.getHardLimit();
    Long toTokens = body.has("max_tokens_per_month") ? tokens : fromTokens;
    Long toCost = body.has("max_cost_per_month") ? cost : fromCost;
    boolean toHard = body.has("hard_limit") ? body.bool("hard_limit") : fromHard;
    // no budget is the same as an unlimited soft one: nothing to write
    if (Objects.equals(fromTokens, toTokens) && Objects.equals(fromCost, toCost) && fromHard == toHard) {
      return view(principal.orgId());
    }
    OrgBudget next = OrgBudget.newBuilder()
        .setOrgId(principal.orgId()).setMaxTokensPerMonth(toTokens).setMaxCostMicrosPerMonth(toCost)
        .setHardLimit(toHard).setUpdatedBy(principal.actor())
        // strictly later than the version it replaces, even if the clock stepped back
        .setUpdatedAt(Math.max(clock.millis(), current == null ? 0 : current.getUpdatedAt() + 1))
        .build();
    Map<String, String> details = new LinkedHashMap<>();
    details.put("from", String.valueOf(fromTokens));
    details.put("to", String.valueOf(toTokens));
    details.put("cost_from", KeyChanges.dollars(fromCost));
    details.put("cost_to", KeyChanges.dollars(toCost));
    details.put("hard_limit", Boolean.toString(toHard));
    budgets.put(next, List.of(audits.of(principal, AuditEventType.BUDGET_CHANGED, null, principal.actor()
        + " changed the organisation's budget from " + KeyChanges.describe(fromTokens, fromCost, fromHard) + " to "
        + KeyChanges.describe(toTokens, toCost, toHard), details)), current);
    return view(principal.orgId());
  }

  private OrgBudgetInfo view(String orgId) {
    OrgBudget budget = budgets.get(orgId).orElse(null);
    Optional<KeyStatus> suspension = keys.orgSuspension(orgId, clock.millis());
    return new OrgBudgetInfo(OrgBudgetInfo.TYPE, orgId,
        budget == null ? null : budget.getMaxTokensPerMonth(),
        budget == null || budget.getMaxCostMicrosPerMonth() == null ? null
            : Dollars.format(budget.getMaxCostMicrosPerMonth()),
        budget != null && budget.getHardLimit(), suspension.isPresent(),
        suspension.map(s -> Instant.ofEpochMilli(s.getSuspendedUntil())).orElse(null),
        budget == null ? null : budget.getUpdatedBy(),
        budget == null ? null : Instant.ofEpochMilli(budget.getUpdatedAt()));
  }
}
