package dev.metering.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.kafka.KafkaBroker;
import dev.metering.schemas.DeadLetterHeaders;
import dev.metering.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code dlq replay} of a dead-letter topic larger than the command's heap: the topic takes
 * records of up to 2 MiB, hostile ones included, and an incident can leave millions.
 */
class DeadLetterReplayIT {

  private static final int RECORDS = 150;
  private static final int RECORD_BYTES = 900 * 1024;

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(3);

  @Test
  void shouldReplayADeadLetterTopicLargerThanItsHeapSayingWhichRecordsKafkaRefused() throws Exception {
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
        ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 2 * RECORD_BYTES), new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < RECORDS; i++) {
        ProducerRecord<byte[], byte[]> record = new ProducerRecord<>(Topics.USAGE_EVENTS_DLQ.name(),
            ("key-" + i).getBytes(StandardCharsets.UTF_8), new byte[RECORD_BYTES]);
        record.headers().add(DeadLetterHeaders.REASON, "UNDECODABLE".getBytes(StandardCharsets.UTF_8));
        producer.send(record);
      }
      // and one larger than usage-events takes (1 MiB): the dead-letter topic takes up to 2 MiB
      ProducerRecord<byte[], byte[]> tooLarge = new ProducerRecord<>(Topics.USAGE_EVENTS_DLQ.name(),
          "key-too-large".getBytes(StandardCharsets.UTF_8), new byte[3 * RECORD_BYTES / 2]);
      tooLarge.headers().add(DeadLetterHeaders.REASON, "UNDECODABLE".getBytes(StandardCharsets.UTF_8));
      producer.send(tooLarge);
      producer.flush();
    }
    // 135 MB of dead letters, 128 MiB of heap: holding the chosen records at once cannot fit
    String classpath = "target/classes:" + Files.readString(Path.of("target/classpath.txt")).trim();
    Path out = Files.createTempFile("dlq-replay", ".csv");
    Path err = Files.createTempFile("dlq-replay", ".err");
    ProcessBuilder command = new ProcessBuilder(List.of("java", "-Xmx128m", "-XX:+UseSerialGC",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classpath, MeteringCli.class.getName(),
        "dlq", "replay", "--all", "-o", "csv")).redirectError(err.toFile()).redirectOutput(out.toFile());
    command.environment().put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
    Process process = command.start();
    assertTrue(process.waitFor(120, TimeUnit.SECONDS), "the replay ended");
    List<String> lines = Files.readAllLines(out);

    String errors = Files.readString(err);

    assertEquals(MeteringCli.REFUSED, process.exitValue(), errors);
    assertEquals("error: 1 of " + (RECORDS + 1) + " records were not replayed: Kafka refused them (their rows say"
        + " why); the others were", errors.strip());
    assertEquals(RECORDS + 2, lines.size(), "a header and a row per record");
    assertEquals(RECORDS, lines.stream().filter(line -> line.contains(",UNDECODABLE,replayed,")).count());
    assertEquals(1, lines.stream().filter(line -> line.contains(",UNDECODABLE,\"not replayed: The message is ")).count(),
        String.join("\n", lines.stream().filter(line -> !line.contains(",replayed,")).toList()));
    assertEquals(RECORDS, recordsOn(Topics.USAGE_EVENTS.name()), "every other record sent to usage-events once");
  }

  private static long recordsOn(String topic) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
      int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size();
      Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
      for (int p = 0; p < partitions; p++) {
        latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      return admin.listOffsets(latest).all().get().values().stream().mapToLong(o -> o.offset()).sum();
    }
  }
}
