package dev.metering.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.metering.config.Env;
import dev.metering.config.InvalidConfigException;
import java.util.Map;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

class StreamsSettingsTest {

  @Test
  void shouldGiveTheRecordCachesKafkaStreamsDefaultOrTheConfiguredSize() {
    assertEquals(10L << 20, cacheBytes(Map.of()), "METERING_STORE_CACHE_MB unset");
    assertEquals(32L << 20, cacheBytes(Map.of("METERING_STORE_CACHE_MB", "32")));
    assertEquals(0L, cacheBytes(Map.of("METERING_STORE_CACHE_MB", "0")), "0 turns the caches off");
  }

  @Test
  void shouldRefuseANegativeRecordCacheSize() {
    InvalidConfigException e = assertThrows(InvalidConfigException.class,
        () -> MeteringConfig.from(new Env(Map.of("METERING_STORE_CACHE_MB", "-1"))));

    assertEquals("METERING_STORE_CACHE_MB", e.variable());
  }

  private static Object cacheBytes(Map<String, String> env) {
    return StreamsSettings.of(MeteringConfig.from(new Env(env))).get(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG);
  }
}
