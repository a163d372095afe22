package dev.metering.api;

/**
 * Sums of tokens, requests and micro-dollars that stop at {@link Long#MAX_VALUE} instead of
 * wrapping around to a negative number. A call may report up to 10^9 tokens of each kind at up to
 * $1000 per million, about 4 x 10^12 micro-dollars, so a few million such calls would wrap a month's
 * cost: a wrapped total would read as a month far under its limit and lift the key's suspension.
 * For counts that are never negative, capped sums do not depend on the order they are added in, so
 * a backfill and the same usage live still give the same totals.
 */
public final class Saturating {

  private Saturating() {
  }

  /** {@code a + b}, or the long nearest to it when it does not fit in one. */
  public static long add(long a, long b) {
    long sum = a + b;
    if (((a ^ sum) & (b ^ sum)) < 0) { // both addends have the sign the sum lost
      return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
    return sum;
  }

  /** The sum of the four, capped as by {@link #add(long, long)}. */
  public static long add(long a, long b, long c, long d) {
    return add(add(add(a, b), c), d);
  }
}
