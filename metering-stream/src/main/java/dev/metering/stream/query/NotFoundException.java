package dev.metering.stream.query;

/** Nothing is known of the requested id; answered with 404. */
public final class NotFoundException extends RuntimeException {

  public NotFoundException(String message) {
    super(message);
  }
}
