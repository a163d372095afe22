package dev.metering.stream.query;

/** A request parameter that is missing or invalid; answered with 400 naming the parameter. */
public final class BadRequestException extends RuntimeException {

  private final String parameter;

  public BadRequestException(String parameter, String message) {
    super(message);
    this.parameter = parameter;
  }

  public String parameter() {
    return parameter;
  }
}
