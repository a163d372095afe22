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

  Output out(Output.Options options) {
    return new Output(options.format, spec.commandLine().getOut());
  }
}
