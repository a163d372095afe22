package dev.metering.stream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.Consumer;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TransactionAbortableException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a stream thread's death means. A cluster out of reach for longer than Kafka Streams'
 * own retries (a broker restart or a network cut of over a minute: a changelog send finds no
 * metadata within {@code max.block.ms}, the transaction is aborted) is not this instance's fault
 * and ends by itself: the thread is replaced, its open transaction aborted and its tasks taken
 * up again from what was committed, as after a crash, while the instance stays up. Stopping the
 * whole instance there left metering down after the brokers were back, until something restarted
 * it. Anything else is a bug or a broken cluster: the instance stops loudly so its supervisor
 * restarts it and someone looks, rather than loop on it.
 */
final class ThreadFailures implements StreamsUncaughtExceptionHandler {

  private static final Logger log = LoggerFactory.getLogger(ThreadFailures.class);

  private final Counter replaced;
  private final Consumer<String> onReplace;

  ThreadFailures(MeterRegistry metrics) {
    this(metrics, threadName -> { });
  }

  /** @param onReplace told the name of each stream thread about to be replaced */
  ThreadFailures(MeterRegistry metrics, Consumer<String> onReplace) {
    this.replaced = Counter.builder("metering.stream.threads.replaced")
        .description("stream threads replaced after the cluster was out of reach for longer than their retries")
        .register(metrics);
    this.onReplace = onReplace;
  }

  @Override
  public StreamThreadExceptionResponse handle(Throwable failure) {
    if (clusterOutOfReach(failure)) {
      replaced.increment();
      // Kafka Streams calls this on the failing thread
      onReplace.accept(Thread.currentThread().getName());
      log.error("a stream thread lost the cluster for longer than its retries; replacing it: its tasks resume"
          + " from what they committed once the brokers answer again", failure);
      return StreamThreadExceptionResponse.REPLACE_THREAD;
    }
    log.error("metering-stream stopping after an unrecoverable error", failure);
    return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
  }

  /** Whether {@code failure} comes from a request that ran out of retries or time: nothing of ours. */
  static boolean clusterOutOfReach(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause() == cause ? null : cause.getCause()) {
      if (cause instanceof RetriableException || cause instanceof TransactionAbortableException) {
        return true;
      }
    }
    return false;
  }
}
