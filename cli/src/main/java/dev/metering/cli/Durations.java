package dev.metering.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** Durations as people write them on a command line: 30s, 15m, 24h, 7d. */
final class Durations {

  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})([smhd])");

  private Durations() {
  }

  static Duration parse(String option, String value, CommandSpec spec) {
    Matcher m = DURATION.matcher(value.strip());
    if (!m.matches()) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          option + " must be a number and a unit (s, m, h or d), such as 30m or 24h, not " + value);
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }
}
