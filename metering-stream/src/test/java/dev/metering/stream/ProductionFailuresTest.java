package dev.metering.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.metering.config.Env;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.apache.kafka.streams.errors.ProductionExceptionHandler.Result;
import org.junit.jupiter.api.Test;

class ProductionFailuresTest {

  private final ProductionExceptionHandler handler = new StreamsConfig(
      StreamsSettings.of(MeteringConfig.from(new Env(Map.of())))).productionExceptionHandler();
  // a changelog write from a punctuation: no input record is behind it
  private final ProducerRecord<byte[], byte[]> changelog =
      new ProducerRecord<>("metering-stream-org-progress-changelog", 0, new byte[] {1}, new byte[] {2});

  @Test
  void shouldFailTheThreadWithoutDeadLetteringWhenATransactionIsAborted() {
    // the default handler dead-lettered the input behind the write: for a punctuation's write it
    // could not (timestamp -1), and the thread died of that instead of the outage
    ProductionExceptionHandler.Response response = handler.handleError(null, changelog,
        new TransactionAbortableException("Transaction Request was aborted after exhausting retries."));

    assertEquals(Result.FAIL, response.result());
    assertEquals(List.of(), response.deadLetterQueueRecords());
    assertEquals(Result.FAIL, handler.handleError(null, changelog, new RecordTooLargeException("large")).result());
  }

  @Test
  void shouldRetryARetriableError() {
    assertEquals(Result.RETRY, handler.handleError(null, changelog, new TimeoutException("no metadata")).result());
  }
}
