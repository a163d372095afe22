package dev.metering.stream.usage;

import org.apache.kafka.streams.state.KeyValueStore;

/**
 * How far a task has processed, kept in a store so queries can say how fresh their answer is
 * ({@code as_of}) and so the ingest task's watermark survives a restart: the highest event time
 * the task has counted.
 */
public final class Progress {

  /** Watermark of each usage-events partition's task: the highest event time it accepted. */
  public static final String INGEST_STORE = "ingest-progress";
  /** Stream time of each org-repartition partition's task. */
  public static final String ORG_STORE = "org-progress";
  public static final String STREAM_TIME = "stream_time_ms";

  private final KeyValueStore<String, Long> store;
  private long last;

  /** Reads the progress already stored, so a restored task goes on from where it was. */
  public Progress(KeyValueStore<String, Long> store) {
    this.store = store;
    Long stored = store.get(STREAM_TIME);
    this.last = stored == null ? Long.MIN_VALUE : stored;
  }

  /** The highest time recorded, or Long.MIN_VALUE if none. */
  public long time() {
    return last;
  }

  /** Records {@code millis} if it is later than what is recorded; writes only when it moved. */
  public void advance(long millis) {
    if (millis > last) {
      last = millis;
      store.put(STREAM_TIME, millis);
    }
  }
}
