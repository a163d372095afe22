package dev.metering.stream.rocksdb;

import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowBytesStoreSupplier;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

/**
 * Persistent window stores whose changelog offsets Kafka Streams keeps in the task's checkpoint
 * file, as it does for any store that does not manage its own offsets.
 *
 * <p>Kafka Streams 4.3's RocksDB window store keeps its committed changelog offset inside its
 * segments (KIP-1035) and reads it back from the newest segment that has one. A window store with
 * no segment (never written, like the spike flags until a spike fires, or emptied by retention on
 * an idle partition) has nowhere to keep it, so on the next open of its task (a restart, a task
 * moving between threads or instances, an active task becoming a standby) it reports no offset,
 * and under exactly-once that is read as uncommitted data: the task is declared corrupted, every
 * one of its stores wiped and restored from the changelogs, and, for an active task, a rebalance
 * forced, which moves more tasks and repeats it. The checkpoint file records an offset for every
 * store, empty ones too; it is written when the task closes cleanly and deleted while it runs, so
 * a crash still restores as before. Reads, writes and restores are the RocksDB store's own.
 */
public final class CheckpointedWindowStores {

  private CheckpointedWindowStores() {
  }

  /** {@link Stores#persistentWindowStore} without duplicates, its offsets kept in the checkpoint file. */
  public static WindowBytesStoreSupplier persistent(String name, Duration retention, Duration windowSize) {
    return new Supplier(Stores.persistentWindowStore(name, retention, windowSize, false));
  }

  private record Supplier(WindowBytesStoreSupplier rocksDb) implements WindowBytesStoreSupplier {

    @Override
    public String name() {
      return rocksDb.name();
    }

    @Override
    public WindowStore<Bytes, byte[]> get() {
      return new CheckpointedWindowStore(rocksDb.get());
    }

    @Override
    public String metricsScope() {
      return rocksDb.metricsScope();
    }

    @Override
    public long segmentIntervalMs() {
      return rocksDb.segmentIntervalMs();
    }

    @Override
    public long windowSize() {
      return rocksDb.windowSize();
    }

    @Override
    public boolean retainDuplicates() {
      return rocksDb.retainDuplicates();
    }

    @Override
    public long retentionPeriod() {
      return rocksDb.retentionPeriod();
    }
  }

  /** The RocksDB window store, saying that it does not manage its offsets; everything else is its own. */
  static final class CheckpointedWindowStore implements WindowStore<Bytes, byte[]> {

    private final WindowStore<Bytes, byte[]> store;

    CheckpointedWindowStore(WindowStore<Bytes, byte[]> store) {
      this.store = store;
    }

    @Override
    public boolean managesOffsets() {
      return false;
    }

    @Override
    public Long committedOffset(TopicPartition partition) {
      return null;
    }

    @Override
    public String name() {
      return store.name();
    }

    @Override
    public void init(StateStoreContext context, StateStore root) {
      store.init(context, root);
    }

    @Override
    public void commit(Map<TopicPartition, Long> changelogOffsets) {
      store.commit(changelogOffsets);
    }

    @Override
    public void close() {
      store.close();
    }

    @Override
    public boolean persistent() {
      return store.persistent();
    }

    @Override
    public boolean isOpen() {
      return store.isOpen();
    }

    @Override
    public <R> QueryResult<R> query(Query<R> query, PositionBound positionBound, QueryConfig config) {
      return store.query(query, positionBound, config);
    }

    @Override
    public Position getPosition() {
      return store.getPosition();
    }

    @Override
    public void put(Bytes key, byte[] value, long windowStartTimestamp) {
      store.put(key, value, windowStartTimestamp);
    }

    @Override
    public byte[] fetch(Bytes key, long time) {
      return store.fetch(key, time);
    }

    @Override
    public WindowStoreIterator<byte[]> fetch(Bytes key, long timeFrom, long timeTo) {
      return store.fetch(key, timeFrom, timeTo);
    }

    @Override
    public WindowStoreIterator<byte[]> backwardFetch(Bytes key, long timeFrom, long timeTo) {
      return store.backwardFetch(key, timeFrom, timeTo);
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> fetch(Bytes keyFrom, Bytes keyTo, long timeFrom, long timeTo) {
      return store.fetch(keyFrom, keyTo, timeFrom, timeTo);
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> backwardFetch(Bytes keyFrom, Bytes keyTo, long timeFrom,
        long timeTo) {
      return store.backwardFetch(keyFrom, keyTo, timeFrom, timeTo);
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> fetchAll(long timeFrom, long timeTo) {
      return store.fetchAll(timeFrom, timeTo);
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> backwardFetchAll(long timeFrom, long timeTo) {
      return store.backwardFetchAll(timeFrom, timeTo);
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> all() {
      return store.all();
    }

    @Override
    public KeyValueIterator<Windowed<Bytes>, byte[]> backwardAll() {
      return store.backwardAll();
    }
  }
}
