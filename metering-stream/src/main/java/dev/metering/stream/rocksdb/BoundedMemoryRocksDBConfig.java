package dev.metering.stream.rocksdb;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * Bounds the off-heap memory of every RocksDB store of the application by one budget: all
 * stores share one block cache, and their memtables are charged to that same cache through one
 * write-buffer manager, with index and filter blocks cached there too. Memory then does not grow
 * with the number of stores, partitions or keys beyond {@link #MEMORY_BYTES_CONFIG}.
 */
public final class BoundedMemoryRocksDBConfig implements RocksDBConfigSetter {

  /** Streams config key carrying the total budget in bytes. */
  public static final String MEMORY_BYTES_CONFIG = "metering.rocksdb.memory.bytes";
  /** Share of the budget memtables may take. */
  static final double WRITE_BUFFER_RATIO = 0.5;
  /** Share of the cache kept for index and filter blocks, so data blocks cannot evict them. */
  static final double HIGH_PRIORITY_POOL_RATIO = 0.1;

  /**
   * Memtable size of each store. Every segment of a window store is its own RocksDB instance, so
   * an application writes to about a hundred memtables charged to one write-buffer manager. Once
   * they reach the manager's limit together, RocksDB flushes whichever memtable is written next,
   * however small, until the flushes free memory: a storm of tiny files and compactions. With
   * 4 MiB memtables and a quarter of the budget, that took twice the stream thread's CPU in the
   * benchmark (146 s of flush and compaction threads against 70 s of processing) and stalled its
   * writes. A hundred 1 MiB memtables fit in half the budget, so each store flushes when its own
   * memtable is full; the manager is left to bound memory only.
   */
  static final long WRITE_BUFFER_BYTES = 1L * 1024 * 1024;
  /** RocksDB's own ratio to the memtable size, so a memtable grows in eight steps. */
  static final long ARENA_BLOCK_BYTES = WRITE_BUFFER_BYTES / 8;

  /** Per budget, so two applications in one JVM with different budgets each get theirs. */
  private static final Map<Long, Shared> SHARED = new ConcurrentHashMap<>();

  record Shared(Cache cache, WriteBufferManager writeBufferManager) {
  }

  @Override
  public void setConfig(String storeName, Options options, Map<String, Object> configs) {
    Shared shared = shared(budget(configs));
    BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
    table.setBlockCache(shared.cache());
    table.setCacheIndexAndFilterBlocks(true);
    table.setCacheIndexAndFilterBlocksWithHighPriority(true);
    table.setPinTopLevelIndexAndFilter(true);
    options.setWriteBufferManager(shared.writeBufferManager());
    options.setWriteBufferSize(WRITE_BUFFER_BYTES);
    options.setArenaBlockSize(ARENA_BLOCK_BYTES);
    options.setTableFormatConfig(table);
  }

  @Override
  public void close(String storeName, Options options) {
    // The cache and write-buffer manager are shared by every store and live as long as the JVM.
  }

  static Shared shared(long budgetBytes) {
    return SHARED.computeIfAbsent(budgetBytes, bytes -> {
      Cache cache = new LRUCache(bytes, -1, false, HIGH_PRIORITY_POOL_RATIO);
      return new Shared(cache, new WriteBufferManager((long) (bytes * WRITE_BUFFER_RATIO), cache));
    });
  }

  private static long budget(Map<String, Object> configs) {
    Object value = configs.get(MEMORY_BYTES_CONFIG);
    if (value == null) {
      throw new IllegalStateException(MEMORY_BYTES_CONFIG + " is not set in the Streams config");
    }
    return value instanceof Number n ? n.longValue() : Long.parseLong(value.toString());
  }
}
