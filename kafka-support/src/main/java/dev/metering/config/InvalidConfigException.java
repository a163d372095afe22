package dev.metering.config;

/** A setting that does not hold a valid value; the message names the variable and what it expects. */
public final class InvalidConfigException extends RuntimeException {

  private final String variable;

  public InvalidConfigException(String variable, String value, String expected) {
    super("invalid value '" + value + "' for " + variable + ": expected " + expected);
    this.variable = variable;
  }

  public String variable() {
    return variable;
  }
}
