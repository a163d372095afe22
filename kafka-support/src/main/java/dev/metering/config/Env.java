package dev.metering.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Objects;

/**
 * Reads typed settings from environment variables. Every getter takes the documented default;
 * a value that does not parse or is out of range throws {@link InvalidConfigException} naming
 * the variable, so a service stops at start-up instead of running misconfigured.
 */
public final class Env {

  private final Map<String, String> vars;

  public Env(Map<String, String> vars) {
    this.vars = Map.copyOf(Objects.requireNonNull(vars, "vars"));
  }

  /** The process environment. */
  public static Env system() {
    return new Env(System.getenv());
  }

  public String string(String name, String defaultValue) {
    String value = vars.get(name);
    if (value == null || value.isBlank()) {
      return defaultValue;
    }
    return value.strip();
  }

  public int intInRange(String name, int defaultValue, int min, int max) {
    long value = longInRange(name, defaultValue, min, max);
    return (int) value;
  }

  public long longInRange(String name, long defaultValue, long min, long max) {
    String raw = string(name, null);
    if (raw == null) {
      return defaultValue;
    }
    long value;
    try {
      value = Long.parseLong(raw);
    } catch (NumberFormatException e) {
      throw new InvalidConfigException(name, raw, "a whole number");
    }
    if (value < min || value > max) {
      throw new InvalidConfigException(name, raw, "a number from " + min + " to " + max);
    }
    return value;
  }

  public double doubleAtLeast(String name, double defaultValue, double min) {
    String raw = string(name, null);
    if (raw == null) {
      return defaultValue;
    }
    double value;
    try {
      value = Double.parseDouble(raw);
    } catch (NumberFormatException e) {
      throw new InvalidConfigException(name, raw, "a number");
    }
    if (!(value >= min) || Double.isInfinite(value)) {
      throw new InvalidConfigException(name, raw, "a finite number of at least " + min);
    }
    return value;
  }

  public boolean bool(String name, boolean defaultValue) {
    String raw = string(name, null);
    if (raw == null) {
      return defaultValue;
    }
    return switch (raw.toLowerCase(java.util.Locale.ROOT)) {
      case "true", "yes", "1" -> true;
      case "false", "no", "0" -> false;
      default -> throw new InvalidConfigException(name, raw, "true or false");
    };
  }

  /** A duration as ISO-8601 ({@code PT5M}, {@code P3D}) or a number with a unit: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 3d}. */
  public Duration duration(String name, Duration defaultValue, Duration min) {
    return durationInRange(name, defaultValue, min, null);
  }

  /** {@link #duration}, and at most {@code max}. */
  public Duration durationInRange(String name, Duration defaultValue, Duration min, Duration max) {
    String raw = string(name, null);
    if (raw == null) {
      return defaultValue;
    }
    Duration value = parseDuration(raw);
    if (value == null) {
      throw new InvalidConfigException(name, raw, "a duration such as 500ms, 30s, 5m, 2h, 3d or PT5M");
    }
    if (value.compareTo(min) < 0) {
      throw new InvalidConfigException(name, raw, "a duration of at least " + Durations.inWords(min));
    }
    if (max != null && value.compareTo(max) > 0) {
      throw new InvalidConfigException(name, raw,
          "a duration from " + Durations.inWords(min) + " to " + Durations.inWords(max));
    }
    return value;
  }

  static Duration parseDuration(String raw) {
    String s = raw.strip().toLowerCase(java.util.Locale.ROOT);
    try {
      if (s.startsWith("p")) {
        return Duration.parse(s.toUpperCase(java.util.Locale.ROOT));
      }
      if (s.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
      }
      long amount = Long.parseLong(s.substring(0, s.length() - 1));
      return switch (s.charAt(s.length() - 1)) {
        case 's' -> Duration.ofSeconds(amount);
        case 'm' -> Duration.ofMinutes(amount);
        case 'h' -> Duration.ofHours(amount);
        case 'd' -> Duration.ofDays(amount);
        default -> null;
      };
    } catch (NumberFormatException | DateTimeParseException | StringIndexOutOfBoundsException e) {
      return null;
    }
  }
}
