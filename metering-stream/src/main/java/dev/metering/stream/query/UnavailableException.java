package dev.metering.stream.query;

/** The data cannot be read right now (rebalance, restore, instance down); answered with 503 and Retry-After. */
public final class UnavailableException extends RuntimeException {

  public UnavailableException(String message) {
    super(message);
  }

  public UnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
