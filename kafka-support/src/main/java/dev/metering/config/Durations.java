package dev.metering.config;

import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;

/** Durations as people write them in a sentence, for messages shown to users. */
public final class Durations {

  private Durations() {
  }

  /** {@code duration} in its largest whole unit, hours down to milliseconds: "72 hours", "90 minutes", "1500 ms". */
  public static String inWords(Duration duration) {
    for (ChronoUnit unit : List.of(ChronoUnit.HOURS, ChronoUnit.MINUTES, ChronoUnit.SECONDS)) {
      long count = duration.toMillis() / unit.getDuration().toMillis();
      if (duration.equals(unit.getDuration().multipliedBy(count))) {
        String name = unit.toString().toLowerCase(Locale.ROOT);
        return count + " " + (count == 1 ? name.substring(0, name.length() - 1) : name);
      }
    }
    return duration.toMillis() + " ms";
  }
}
