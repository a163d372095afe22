package dev.metering.schemas;

/** Headers on every usage-events-dlq record, naming why it was rejected and where it came from. */
public final class DeadLetterHeaders {

  public static final String REASON = "dlq.reason";
  public static final String MESSAGE = "dlq.message";
  public static final String EXCEPTION = "dlq.exception";
  public static final String SOURCE_TOPIC = "dlq.source.topic";
  public static final String SOURCE_PARTITION = "dlq.source.partition";
  public static final String SOURCE_OFFSET = "dlq.source.offset";

  private DeadLetterHeaders() {
  }
}
