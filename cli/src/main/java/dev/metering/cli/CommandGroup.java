package dev.metering.cli;

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

  /** A --max-tokens-per-month value: a whole number of tokens, or "unlimited" for none (null). */
  Long tokensOrUnlimited(String value) {
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

  /** A --max-cost-per-month value: dollars as given (the API checks them), or "unlimited" for none (null). */
  static String dollarsOrUnlimited(String value) {
    return value.equalsIgnoreCase("unlimited") ? null : value;
  }

  Output out(Output.Options options) {
    return new Output(options.format, spec.commandLine().getOut());
  }
}
