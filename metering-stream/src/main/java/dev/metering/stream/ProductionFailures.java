package dev.metering.stream;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;

/**
 * What a failed write of the topology's own output means: Kafka Streams' default, less its dead
 * letters. A retriable error is retried; anything else fails the thread, which
 * {@link ThreadFailures} replaces or stops. The default also dead-letters the input record behind
 * the write once {@code errors.dead.letter.queue.topic.name} is set (here for undecodable tables):
 * a usage event that was counted correctly would land in usage-events-dlq beside the bad input,
 * and a write from a punctuation, which has no input record, failed to build its dead letter
 * (timestamp -1, Kafka 4.3.1) and turned a broker outage into an error the thread was stopped for.
 */
public final class ProductionFailures implements ProductionExceptionHandler {

  @Override
  public Response handleError(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record,
      Exception exception) {
    return exception instanceof RetriableException ? Response.retry() : Response.fail();
  }

  @Override
  public Response handleSerializationError(ErrorHandlerContext context, ProducerRecord record, Exception exception,
      SerializationExceptionOrigin origin) {
    return Response.fail();
  }

  @Override
  public void configure(Map<String, ?> configs) {
    // nothing to configure
  }
}
