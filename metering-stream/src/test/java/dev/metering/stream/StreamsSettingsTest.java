package dev.metering.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

  @Test
  void shouldEnableTheGlobalProcessingHandlerInTheConfigEachThreadsAssignorReads() {
    StreamsConfig streams = new StreamsConfig(StreamsSettings.of(MeteringConfig.from(new Env(Map.of()))));

    // what a stream thread's partition assignor builds its own StreamsConfig from
    Map<String, Object> mainConsumer = streams.getMainConsumerConfigs("group", "client", 0);

    assertTrue(streams.getBoolean(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG));
    assertEquals(true, mainConsumer.get(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG));
  }

  private static Object cacheBytes(Map<String, String> env) {
    return StreamsSettings.of(MeteringConfig.from(new Env(env))).get(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG);
  }
}
