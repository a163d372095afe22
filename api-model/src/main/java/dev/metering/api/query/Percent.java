package dev.metering.api.query;

/** Use of a monthly limit as a percentage, as the current-period answers give it. */
public final class Percent {

  private Percent() {
  }

  /** {@code used} as a percentage of {@code limit}; null when there is no limit (or a zero one). */
  public static Double of(long used, Long limit) {
    return limit == null || limit == 0 ? null : used * 100.0 / limit;
  }
}
