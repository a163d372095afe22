package dev.metering.stream.spikes;

/**
 * When a day is a spike: above {@code factor} x the same weekday a week before, with that
 * baseline at least {@code minBaselineTokens} (and above zero).
 */
public record SpikeSettings(double factor, long minBaselineTokens) {

  public SpikeSettings {
    if (!(factor >= 1.0)) {
      throw new IllegalArgumentException("spike factor must be at least 1, got " + factor);
    }
    if (minBaselineTokens < 0) {
      throw new IllegalArgumentException("minimum baseline must be >= 0, got " + minBaselineTokens);
    }
  }
}
