package dev.metering.stream.rocksdb;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

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
