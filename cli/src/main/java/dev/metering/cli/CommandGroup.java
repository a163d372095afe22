package dev.metering.cli;

import dev.metering.client.AdminClient;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** A command of subcommands ({@code keys}, {@code alerts}, ...): alone, it prints its help. */
abstract class CommandGroup implements Runnable {

  @ParentCommand
  MeteringCli root;

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /**
   * Puts the limit options given (null: not given) into {@code changes}: --max-tokens-per-month and
   * --max-cost-per-month take "unlimited" to remove the limit.
   */
  void limits(AdminClient.LimitChanges<?> changes, String maxTokens, String maxCost, Boolean hardLimit) {
    if (maxTokens != null) {
      changes.maxTokensPerMonth(tokensOrUnlimited(maxTokens));
    }
    if (maxCost != null) {
      changes.maxCostPerMonth(maxCost.equalsIgnoreCase("unlimited") ? null : maxCost);
    }
    if (hardLimit != null) {
      changes.hardLimit(hardLimit);
    }
  }

  /** A --max-tokens-per-month value: a whole number of tokens, or "unlimited" for none (null). */
  private Long tokensOrUnlimited(String value) {
    if (value.equalsIgnoreCase("unlimited")) {
      return null;
    }
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          "--max-tokens-per-month must be a whole number of tokens or unlimited, not " + value);
    }
  }

  Output out(Output.Options options) {
    return new Output(options.format, spec.commandLine().getOut());
  }
}
