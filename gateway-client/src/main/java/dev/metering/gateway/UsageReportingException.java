package dev.metering.gateway;

/** A call's usage could not be handed to Kafka in time (brokers unreachable, buffer full). */
public final class UsageReportingException extends RuntimeException {

  public UsageReportingException(String message, Throwable cause) {
    super(message, cause);
  }
}
