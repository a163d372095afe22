package dev.metering.stream.rocksdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteOptions;

class BoundedMemoryRocksDBConfigTest {

  static {
    RocksDB.loadLibrary();
  }

  @Test
  void shouldShareOneCacheAndWriteBufferManagerAcrossEveryStore() {
    BoundedMemoryRocksDBConfig setter = new BoundedMemoryRocksDBConfig();
    Map<String, Object> configs = Map.of(BoundedMemoryRocksDBConfig.MEMORY_BYTES_CONFIG, 64L * 1024 * 1024);
    try (Options a = withTable(); Options b = withTable()) {

      setter.setConfig("store-a", a, configs);
      setter.setConfig("store-b", b, configs);

      assertSame(a.writeBufferManager(), b.writeBufferManager(), "one write-buffer manager for all stores");
      for (Options options : new Options[] {a, b}) {
        BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
        assertTrue(table.cacheIndexAndFilterBlocks(), "index and filter blocks are charged to the shared cache");
        assertTrue(table.pinTopLevelIndexAndFilter());
        assertEquals(BoundedMemoryRocksDBConfig.ARENA_BLOCK_BYTES, options.arenaBlockSize(),
            "memtables grow in small blocks, so a hundred stores do not exhaust the write budget when they open");
        assertTrue(options.writeBufferSize() * 8 <= 64L * 1024 * 1024,
            "a memtable is a small share of the budget");
      }
    }
  }

  /**
   * A topology writes to about a hundred stores at once (every segment of a window store is its
   * own RocksDB, in every task). If their memtables together reach the shared manager's limit,
   * RocksDB flushes whichever memtable is written next, however small, until the flushes free
   * memory: a storm of tiny files and compactions that took twice the stream thread's CPU in the
   * benchmark. Each store must flush because its own memtable is full, long before that.
   */
  @Test
  void shouldLetAHundredStoresFillMostOfAMemtableWithoutTheSharedLimitFlushingAny(@TempDir Path dir)
      throws RocksDBException {
    long budget = 256L * 1024 * 1024 + 4096; // the default budget; its own manager, not shared with other tests
    BoundedMemoryRocksDBConfig setter = new BoundedMemoryRocksDBConfig();
    List<Options> options = new ArrayList<>();
    List<RocksDB> stores = new ArrayList<>();
    Random random = new Random(7);
    byte[] value = new byte[200];
    try {
      for (int s = 0; s < 100; s++) {
        Options o = withTable();
        o.setCreateIfMissing(true);
        setter.setConfig("store-" + s, o, Map.of(BoundedMemoryRocksDBConfig.MEMORY_BYTES_CONFIG, budget));
        options.add(o);
        stores.add(RocksDB.open(o, dir.resolve("store-" + s).toString()));
      }
      try (WriteOptions write = new WriteOptions().setDisableWAL(true)) {
        for (RocksDB store : stores) {
          for (int i = 0; i < 2_500; i++) { // 2,500 x 216 bytes: about 60% of a memtable, 54 MiB in all
            byte[] key = new byte[16];
            random.nextBytes(key);
            random.nextBytes(value);
            store.put(write, key, value);
          }
        }
      }
      for (RocksDB store : stores) {
        assertEquals(0, store.getLongProperty("rocksdb.num-immutable-mem-table")
            + Long.parseLong(store.getProperty("rocksdb.num-files-at-level0")), "no store was flushed");
      }
    } finally {
      stores.forEach(RocksDB::close);
      options.forEach(Options::close);
    }
  }

  @Test
  void shouldRefuseToRunWithoutABudget() {
    try (Options options = withTable()) {
      assertThrows(IllegalStateException.class, () -> new BoundedMemoryRocksDBConfig().setConfig("s", options, Map.of()));
    }
  }

  private static Options withTable() {
    Options options = new Options();
    options.setTableFormatConfig(new BlockBasedTableConfig());
    return options;
  }
}
