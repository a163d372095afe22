package dev.metering.admin.http;

/** Query parameters shared by list endpoints. */
public final class Params {

  private Params() {
  }

  /** A page size from 1 to {@code max}; {@code defaultValue} when absent. */
  public static int limit(String value, int defaultValue, int max) {
    if (value == null || value.isBlank()) {
      return defaultValue;
    }
    try {
      int limit = Integer.parseInt(value);
      if (limit >= 1 && limit <= max) {
        return limit;
      }
    } catch (NumberFormatException ignored) {
      // answered below
    }
    throw ApiError.invalid("limit", "limit must be a whole number from 1 to " + max);
  }
}
