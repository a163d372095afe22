package dev.metering.api;

import java.math.BigDecimal;
import java.util.regex.Pattern;

/**
 * Dollar amounts as the APIs write them: decimal strings ("12.50", "0.0015"), exact to the
 * micro-dollar, the unit every total and limit is kept in. Never a floating-point number.
 */
public final class Dollars {

  private static final Pattern AMOUNT = Pattern.compile("[0-9]{1,12}(\\.[0-9]{1,6})?");

  private Dollars() {
  }

  /** Micro-dollars as dollars with at least the cents: 12500000 is "12.50", 1500 is "0.0015". */
  public static String format(long micros) {
    BigDecimal value = BigDecimal.valueOf(micros, 6).stripTrailingZeros();
    return (value.scale() < 2 ? value.setScale(2) : value).toPlainString();
  }

  /**
   * Dollars written as a decimal string, in micro-dollars: "12.5" is 12500000.
   *
   * @throws IllegalArgumentException if it is not digits with at most six decimals
   */
  public static long parse(String dollars) {
    if (dollars == null || !AMOUNT.matcher(dollars).matches()) {
      throw new IllegalArgumentException("a decimal string of dollars with at most six decimals, such as \"12.50\"");
    }
    return new BigDecimal(dollars).movePointRight(6).longValueExact();
  }
}
