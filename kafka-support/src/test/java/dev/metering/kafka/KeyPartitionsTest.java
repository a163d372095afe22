package dev.metering.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.junit.jupiter.api.Test;

class KeyPartitionsTest {

  @Test
  void shouldPickThePartitionKafkasJavaProducerPicksForAKey() {
    Random random = new Random(7);
    for (int i = 0; i < 10_000; i++) {
      String key = i % 3 == 0 ? "key_" + Long.toHexString(random.nextLong()) : randomText(random);
      int partitions = 1 + random.nextInt(64);

      assertEquals(BuiltInPartitioner.partitionForKey(key.getBytes(StandardCharsets.UTF_8), partitions),
          KeyPartitions.of(key, partitions), key);
    }
  }

  /** Up to 40 characters from anywhere in the Basic Multilingual Plane but the surrogates. */
  private static String randomText(Random random) {
    StringBuilder text = new StringBuilder();
    for (int n = random.nextInt(40); n > 0; n--) {
      int c = random.nextInt(0xD800);
      text.append((char) (random.nextBoolean() ? c % 0x80 : c));
    }
    return text.toString();
  }
}
