package dev.metering.stream.usage;

import org.apache.kafka.streams.state.KeyValueStore;

/**
 * How far a task has processed, kept in a store so queries can say how fresh their answer is
 * ({@code as_of}), also after a restart: the task's stream time, the highest event time seen.
 */
public final class Progress {

  /** Stream time of each usage-events partition's task. */
  public static final String INGEST_STORE = "ingest-progress";
  /** Stream time of each org-repartition partition's task. */
  public static final String ORG_STORE = "org-progress";
  public static final String STREAM_TIME = "stream_time_ms";

  private final KeyValueStore<String, Long> store;
  private long last = Long.MIN_VALUE;

  public Progress(KeyValueStore<String, Long> store) {
    this.store = store;
  }

  /** Records the task's stream time; writes only when it moved. */
  public void advance(long streamTimeMillis) {
    if (streamTimeMillis > last) {
      last = streamTimeMillis;
      store.put(STREAM_TIME, streamTimeMillis);
    }
  }
}
