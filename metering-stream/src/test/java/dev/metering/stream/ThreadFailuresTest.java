package dev.metering.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.junit.jupiter.api.Test;

class ThreadFailuresTest {

  private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
  private final ThreadFailures failures = new ThreadFailures(metrics);

  @Test
  void shouldReplaceAThreadThatLostTheClusterForLongerThanItsRetries() {
    // what a stream thread died of after a 70 s broker restart (BrokerRestartIT): the whole instance stopped
    StreamsException sendTimedOut = new StreamsException("Error encountered trying to commit a transaction",
        new KafkaException("Cannot execute transactional method because we are in an error state",
            new TransactionAbortableException("Transaction Request was aborted after exhausting retries.",
                new TimeoutException("Topic metering-stream-org-progress-changelog not present in metadata after"
                    + " 60000 ms."))));

    assertEquals(StreamThreadExceptionResponse.REPLACE_THREAD, failures.handle(sendTimedOut));
    assertEquals(StreamThreadExceptionResponse.REPLACE_THREAD,
        failures.handle(new StreamsException(new TimeoutException("metadata"))));
    assertEquals(2.0, metrics.get("metering.stream.threads.replaced").counter().count());
  }

  @Test
  void shouldNameTheThreadItReplacesAndNoneItStops() {
    List<String> replacedThreads = new ArrayList<>();
    ThreadFailures told = new ThreadFailures(metrics, replacedThreads::add);

    told.handle(new StreamsException(new TimeoutException("metadata")));
    told.handle(new StreamsException("a bug", new IllegalStateException("unexpected state")));

    // Kafka Streams calls the handler on the failing stream thread
    assertEquals(List.of(Thread.currentThread().getName()), replacedThreads);
  }

  @Test
  void shouldStopTheInstanceOnAnythingElse() {
    assertEquals(StreamThreadExceptionResponse.SHUTDOWN_CLIENT,
        failures.handle(new StreamsException("a bug", new IllegalStateException("unexpected state"))));
    assertEquals(StreamThreadExceptionResponse.SHUTDOWN_CLIENT,
        failures.handle(new StreamsException(new SerializationException("cannot encode"))));
    assertEquals(0.0, metrics.get("metering.stream.threads.replaced").counter().count());
  }
}
