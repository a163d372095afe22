package dev.metering.cli;

import dev.metering.client.AdminClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "budget", mixinStandardHelpOptions = true,
    description = "The organisation's monthly budget over all its keys, in tokens and/or dollars; a hard budget"
        + " suspends every key but the admin keys when reached.")
final class BudgetCommand extends CommandGroup {

  @Command(name = "get", mixinStandardHelpOptions = true, description = "The budget, and whether it suspended the org.")
  void get(@Mixin Output.Options output) {
    out(output).one(root.admin().budget().get());
  }

  @Command(name = "set", mixinStandardHelpOptions = true,
      description = "Set or change the budget; what is not given stays. Lowering it below this month's usage"
          + " breaches at once, raising it above clears a breach (and a suspension).")
  void set(@Option(names = "--max-tokens-per-month", paramLabel = "TOKENS|unlimited",
          description = "tokens per month over every key, or unlimited to remove it") String maxTokens,
      @Option(names = "--max-cost-per-month", paramLabel = "DOLLARS|unlimited",
          description = "dollars of estimated cost per month (such as 250.00), or unlimited to remove it")
      String maxCost,
      @Option(names = "--hard-limit", arity = "1", paramLabel = "true|false",
          description = "whether reaching the budget suspends the organisation's keys") Boolean hardLimit,
      @Mixin Output.Options output) {
    AdminClient.UpdateOrgBudget changes = AdminClient.UpdateOrgBudget.changes();
    limits(changes, maxTokens, maxCost, hardLimit);
    out(output).one(root.admin().budget().update(changes));
  }
}
