package dev.metering.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.kafka.KafkaBroker;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.kafka.KeyPartitions;
import dev.metering.kafka.TopicSetup;
import dev.metering.records.ApiKey;
import dev.metering.records.UsageEvent;
import dev.metering.records.state.UsageTotals;
import dev.metering.schemas.Topics;
import dev.metering.stream.ingest.IngestCounters;
import dev.metering.stream.limits.KeyLimits;
import dev.metering.stream.usage.KeyUsageProcessor;
import dev.metering.stream.usage.OrgUsageProcessor;
import dev.metering.stream.usage.Periods;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.DefaultRecord;
import org.apache.kafka.common.record.internal.DefaultRecordBatch;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Hostile input on a real broker (issue 13): batches of poison records, each mixed with valid
 * events. After every batch metering-stream must still be RUNNING, the valid events counted, and
 * accepted + duplicate + dead-lettered equal to what was produced, with every dead letter on
 * usage-events-dlq.
 */
class PoisonPillIT {

  private static final int PARTITIONS = 2;
  private static final long NOW = System.currentTimeMillis();

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(PARTITIONS);

  private static MeteringApp app;
  private static KafkaProducer<byte[], byte[]> producer;
  private static long produced;
  private static long validProduced;
  private static final Random random = new Random(13);

  @BeforeAll
  static void start() throws Exception {
    app = TestCluster.startInstance(kafka.bootstrapServers(), "poison-it-" + UUID.randomUUID(), Map.of());
    assertTrue(app.awaitRunning(Duration.ofSeconds(60)), "RUNNING");
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    props.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TopicSetup.MAX_DEAD_LETTER_BYTES);
    producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
  }

  @AfterAll
  static void stop() {
    if (producer != null) {
      producer.close();
    }
    if (app != null) {
      app.close();
    }
  }

  @Test
  void shouldDeadLetterRandomBytesOfEverySize() throws Exception {
    List<byte[]> values = new ArrayList<>();
    for (int size : new int[] {0, 1, 2, 9, 10, 11, 64, 1_000, 100_000, 1_000_000}) {
      byte[] bytes = new byte[size];
      random.nextBytes(bytes);
      values.add(bytes);
    }
    values.add(new byte[] {(byte) 0xC3, 0x01}); // the single-object marker and nothing else

    batch(values.stream().map(v -> record("key-random", v)).toList());
  }

  @Test
  void shouldDeadLetterTruncatedForeignAndUnknownAvro() throws Exception {
    byte[] valid = encode(event("key-avro", "m", 10));
    List<ProducerRecord<byte[], byte[]>> poison = new ArrayList<>();
    for (int cut = 1; cut < valid.length; cut += 7) {
      poison.add(record("key-avro", Arrays.copyOf(valid, cut)));
    }
    byte[] unknownFingerprint = valid.clone();
    unknownFingerprint[2] ^= 0x5A;
    poison.add(record("key-avro", unknownFingerprint));
    poison.add(record("key-avro", Topics.API_KEYS.valueSerde().serializer().serialize(Topics.API_KEYS.name(),
        MeteringFixture.key("key-avro", 10L, true))));
    // a string claiming two gigabytes: the decoder must refuse it, not try to allocate it
    byte[] hugeLength = Arrays.copyOf(valid, 10 + 6);
    hugeLength[10] = (byte) 0xFE;
    hugeLength[11] = (byte) 0xFF;
    hugeLength[12] = (byte) 0xFF;
    hugeLength[13] = (byte) 0xFF;
    hugeLength[14] = (byte) 0x0F;
    poison.add(record("key-avro", hugeLength));
    poison.add(record("key-avro", null));

    batch(poison);
  }

  @Test
  void shouldDeadLetterHugeStringsAndKeepNonAsciiOnes() throws Exception {
    String huge = "x".repeat(100_000);
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < 14; i++) {
      records.add(record("key-huge", encode(event("key-huge", huge + i, 10))));
    }
    UsageEvent longId = event("key-huge", "m", 1);
    longId.setEventId("e".repeat(900_000));
    records.add(record("key-huge", encode(longId)));
    UsageEvent longOrg = event("key-huge", "m", 1);
    longOrg.setOrgId("ö".repeat(257));
    records.add(record("key-huge", encode(longOrg)));
    batch(records);

    String unicode = "モデル-🚀-" + "é".repeat(200);
    UsageEvent accepted = event("key-unicode", unicode, 42);
    long before = app.localCounters().getOrDefault(IngestCounters.ACCEPTED, 0L);
    send(record("key-unicode", encode(accepted)), true);
    awaitConsumed();
    assertEquals(before + 1, app.localCounters().get(IngestCounters.ACCEPTED), "a long non-ASCII model within limits counts");
  }

  @Test
  void shouldDeadLetterExtremeTokenCountsAndTimestamps() throws Exception {
    List<ProducerRecord<byte[], byte[]>> poison = new ArrayList<>();
    for (long tokens : new long[] {-1, Long.MIN_VALUE, Long.MAX_VALUE, 1_000_000_001L}) {
      UsageEvent event = event("key-extreme", "m", 1);
      event.setOutputTokens(tokens);
      poison.add(record("key-extreme", encode(event)));
    }
    for (long time : new long[] {0, -1, Long.MIN_VALUE, Long.MAX_VALUE, NOW + Duration.ofDays(3650).toMillis()}) {
      UsageEvent event = event("key-extreme", "m", 1);
      event.setTimestamp(time);
      poison.add(record("key-extreme", encode(event)));
    }

    batch(poison);
  }

  @Test
  void shouldDeadLetterNullAndMismatchedKeysAndKeysInTheWrongPartition() throws Exception {
    byte[] event = encode(event("key-right", "m", 5));
    int otherPartition = (KeyPartitions.of("key-right", PARTITIONS) + 1) % PARTITIONS;
    List<ProducerRecord<byte[], byte[]>> poison = List.of(
        new ProducerRecord<>(Topics.USAGE_EVENTS.name(), null, event),
        record("key-wrong", event),
        record("k".repeat(500_000), event),
        new ProducerRecord<>(Topics.USAGE_EVENTS.name(), null, null),
        // keyed right, in a partition the producer chose itself
        new ProducerRecord<>(Topics.USAGE_EVENTS.name(), otherPartition, "key-right".getBytes(StandardCharsets.UTF_8),
            event));

    batch(poison);
  }

  @Test
  void shouldCountAnEventThatNamesAnotherOrgUnderItsKeysRegisteredOrg() throws Exception {
    String keyId = "key-owned";
    try (KafkaProducer<String, byte[]> keys = KafkaTestSupport.producer(kafka.bootstrapServers())) {
      keys.send(new ProducerRecord<>(Topics.API_KEYS.name(), keyId,
          Topics.API_KEYS.encode(ApiKey.newBuilder(MeteringFixture.key(keyId, null, false)).setOrgId("org-owner")
              .build()))).get();
    }
    TestCluster.await(keyId + " in the api-keys table", Duration.ofSeconds(30), () -> registered(keyId));
    long correctedBefore = app.localCounters().getOrDefault(IngestCounters.ORG_CORRECTED, 0L);
    UsageEvent event = event(keyId, "m", 7);
    event.setOrgId("org-intruder");

    send(record(keyId, encode(event)), true);
    awaitConsumed();

    assertEquals(correctedBefore + 1, app.localCounters().get(IngestCounters.ORG_CORRECTED));
    long day = Periods.dayStart(event.getTimestamp());
    ReadOnlyWindowStore<String, UsageTotals> orgDays = TestCluster.windowStore(app, OrgUsageProcessor.DAILY_STORE);
    TestCluster.await("the key's own org counted the event", Duration.ofSeconds(30), () -> {
      UsageTotals orgDay = orgDays.fetch("org-owner", day);
      return orgDay != null && orgDay.getInputTokens() == 7;
    });
    assertEquals(null, orgDays.fetch("org-intruder", day), "the org the event named has no usage");
    assertRunningAndReconciled();
  }

  @Test
  void shouldMeterAValidEventWhoseHeadersFillItsRecord() throws Exception {
    // a gateway's headers went on to the org repartition topic (and to limit and spike events):
    // with a longer key (the org id) and lz4's frames, a record that fit usage-events' 1 MiB no
    // longer fit the broker's limit there, and the stream thread failed on it after every restart
    UsageEvent event = event("key-h", "m", 11);
    event.setOrgId("o".repeat(256)); // an unregistered key keeps the org its event names
    byte[] key = "key-h".getBytes(StandardCharsets.UTF_8);
    byte[] value = encode(event);
    byte[] padding = new byte[TopicSetup.MAX_USAGE_RECORD_BYTES];
    random.nextBytes(padding); // incompressible
    int length = TopicSetup.MAX_USAGE_RECORD_BYTES;
    for (int i = 0; i < 3; i++) { // the varints of the lengths settle after a step or two
      length -= batchSize(key, value, Arrays.copyOf(padding, length)) - (TopicSetup.MAX_USAGE_RECORD_BYTES - 8);
    }
    byte[] headerValue = Arrays.copyOf(padding, length);
    assertEquals(TopicSetup.MAX_USAGE_RECORD_BYTES - 8, batchSize(key, value, headerValue), "a record just under the limit");
    ProducerRecord<byte[], byte[]> full = record("key-h", value);
    full.headers().add("gateway-trace", headerValue);

    long acceptedBefore = app.localCounters().getOrDefault(IngestCounters.ACCEPTED, 0L);
    producer.send(full).get(); // usage-events takes it
    produced++;
    validProduced++;
    awaitConsumed();

    assertEquals(acceptedBefore + 1, app.localCounters().get(IngestCounters.ACCEPTED));
    long day = Periods.dayStart(event.getTimestamp());
    ReadOnlyWindowStore<String, UsageTotals> orgDays = TestCluster.windowStore(app, OrgUsageProcessor.DAILY_STORE);
    TestCluster.await("the org counted it", Duration.ofSeconds(30), () -> {
      UsageTotals orgDay = orgDays.fetch("o".repeat(256), day);
      return orgDay != null && orgDay.getInputTokens() == 11;
    });
    batch(List.of()); // and the canaries around nothing are counted too
  }

  /** Bytes of a batch of one uncompressed record, as the broker measures it against max.message.bytes. */
  private static int batchSize(byte[] key, byte[] value, byte[] headerValue) {
    return DefaultRecordBatch.RECORD_BATCH_OVERHEAD + DefaultRecord.sizeInBytes(0, 0L, ByteBuffer.wrap(key),
        ByteBuffer.wrap(value), new Header[] {new RecordHeader("gateway-trace", headerValue)});
  }

  private static boolean registered(String keyId) {
    try {
      return app.streams().store(StoreQueryParameters.fromNameAndType(KeyLimits.API_KEYS_STORE,
          QueryableStoreTypes.<String, ApiKey>timestampedKeyValueStore())).get(keyId) != null;
    } catch (InvalidStateStoreException rebalancing) {
      return false;
    }
  }

  @Test
  void shouldMeterThousandsOfModelsOnOneKeyInBoundedBuckets() throws Exception {
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    long hour = Periods.hourStart(NOW - Duration.ofHours(2).toMillis());
    for (int i = 0; i < 3_000; i++) {
      UsageEvent event = event("key-models", "model-" + i + "-" + "z".repeat(200), 1);
      event.setTimestamp(hour + i);
      records.add(record("key-models", encode(event)));
    }
    long before = app.localCounters().getOrDefault(IngestCounters.ACCEPTED, 0L);
    for (ProducerRecord<byte[], byte[]> r : records) {
      send(r, true);
    }
    awaitConsumed();

    assertEquals(before + records.size(), app.localCounters().get(IngestCounters.ACCEPTED));
    UsageTotals bucket = TestCluster.windowStore(app, KeyUsageProcessor.HOURLY_STORE).fetch("key-models", hour);
    assertEquals(3_000, bucket.getRequests());
    assertEquals(65, bucket.getByModel().size(), "64 models and the overflow entry");
    assertRunningAndReconciled();
  }

  /** Sends {@code poison} with a valid event before and after it, and checks the invariants. */
  private void batch(List<ProducerRecord<byte[], byte[]>> poison) throws Exception {
    long deadBefore = app.localCounters().getOrDefault(IngestCounters.DEAD_LETTERED, 0L);
    long acceptedBefore = app.localCounters().getOrDefault(IngestCounters.ACCEPTED, 0L);
    send(record("key-canary", encode(event("key-canary", "m", 1))), true);
    for (ProducerRecord<byte[], byte[]> record : poison) {
      send(record, false);
    }
    send(record("key-canary", encode(event("key-canary", "m", 1))), true);
    awaitConsumed();

    Map<String, Long> counters = app.localCounters();
    assertEquals(deadBefore + poison.size(), counters.get(IngestCounters.DEAD_LETTERED), counters.toString());
    assertEquals(acceptedBefore + 2, counters.get(IngestCounters.ACCEPTED), "both canaries counted: " + counters);
    assertRunningAndReconciled();
  }

  private static void assertRunningAndReconciled() throws InterruptedException {
    assertEquals(KafkaStreams.State.RUNNING, app.streams().state());
    Map<String, Long> counters = app.localCounters();
    assertEquals(produced, TestCluster.consumed(app), counters.toString());
    assertEquals(validProduced, counters.getOrDefault(IngestCounters.ACCEPTED, 0L), counters.toString());
    // the counters are read from the stores, which run ahead of the last commit by up to a commit interval
    long deadLettered = counters.getOrDefault(IngestCounters.DEAD_LETTERED, 0L);
    TestCluster.await(deadLettered + " dead letters committed on " + Topics.USAGE_EVENTS_DLQ.name(), Duration.ofSeconds(30),
        () -> KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(), Topics.USAGE_EVENTS_DLQ.name(),
            new ByteArrayDeserializer(), new ByteArrayDeserializer()).size() == deadLettered);
  }

  private static void awaitConsumed() throws InterruptedException {
    producer.flush();
    TestCluster.await(produced + " records consumed", Duration.ofSeconds(60), () -> TestCluster.consumed(app) == produced);
  }

  private static void send(ProducerRecord<byte[], byte[]> record, boolean valid) throws Exception {
    producer.send(record);
    produced++;
    if (valid) {
      validProduced++;
    }
  }

  private static ProducerRecord<byte[], byte[]> record(String key, byte[] value) {
    return new ProducerRecord<>(Topics.USAGE_EVENTS.name(), key.getBytes(StandardCharsets.UTF_8), value);
  }

  private static UsageEvent event(String apiKeyId, String model, long tokens) {
    UsageEvent event = MeteringFixture.event(apiKeyId, java.time.Instant.ofEpochMilli(NOW - 60_000), tokens);
    event.setModel(model);
    return event;
  }

  private static byte[] encode(UsageEvent event) {
    return Topics.USAGE_EVENTS.encode(event);
  }

}
