package dev.metering.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.metering.kafka.EmbeddedKafka;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.schemas.Topics;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway's usage spool against a real broker that goes away: its process killed (SIGKILL) with
 * usage queued and not acknowledged, then the next one on its spool; a reporter closed meanwhile;
 * a call refused. The broker stops without a controlled shutdown, as a crash or a cut looks to
 * clients, and the reporters keep their metadata, so calls made meanwhile are queued.
 */
class UsageSpoolIT {

  private static final int CALLS = 20;

  @TempDir
  Path dir;

  private EmbeddedKafka kafka;

  @BeforeEach
  void startBroker() {
    kafka = KafkaTestSupport.brokerWithTopics(1, Map.of("controlled.shutdown.enable", "false"));
  }

  @AfterEach
  void closeBroker() {
    kafka.close();
  }

  @Test
  void shouldDeliverTheUsageOfCallsAKilledGatewayServedOnceTheNextOneStartsOnItsSpool() throws Exception {
    Path spool = dir.resolve("spool");
    Path firstLog = dir.resolve("first.log");
    Path go = dir.resolve("go");
    Map<String, String> env = new HashMap<>(Map.of("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
        "SPOOL_DIR", spool.toString(), "KEY", "k-spool", "CALLS", Integer.toString(CALLS), "GO", go.toString()));
    Process first = KafkaTestSupport.startInOtherJvm(SpoolingGatewayMain.class, env, firstLog);
    String warmUp;
    List<String> served;
    try {
      KafkaTestSupport.await("the gateway's first call acknowledged", Duration.ofSeconds(60),
          () -> lines(firstLog).stream().anyMatch(l -> l.startsWith("ready ")));
      warmUp = lines(firstLog).stream().filter(l -> l.startsWith("ready ")).findFirst().orElseThrow().substring(6);
      kafka.stopBroker();
      Files.createFile(go);
      KafkaTestSupport.await("the gateway to serve its calls while the broker is down", Duration.ofSeconds(30),
          () -> lines(firstLog).contains("recorded all"));
    } finally {
      first.destroyForcibly().waitFor();
    }
    served = lines(firstLog).stream().filter(l -> l.startsWith("recorded ") && !l.equals("recorded all"))
        .map(l -> l.substring("recorded ".length())).toList();
    assertEquals(CALLS, served.size(), "calls served: " + served);
    List<Path> leftBehind = segments(spool);
    assertFalse(leftBehind.isEmpty());
    kafka.startBroker();
    assertEquals(List.of(warmUp), delivered(), "the calls served during the outage died with the process");

    env.put("CALLS", "0");
    Process second = KafkaTestSupport.startInOtherJvm(SpoolingGatewayMain.class, env, dir.resolve("second.log"));
    try {
      KafkaTestSupport.await("the served calls' usage delivered", Duration.ofSeconds(60),
          () -> delivered().containsAll(served));
      KafkaTestSupport.await("the killed gateway's spool segments deleted once settled", Duration.ofSeconds(30),
          () -> leftBehind.stream().noneMatch(Files::exists));
    } finally {
      second.destroyForcibly().waitFor();
    }
    List<String> delivered = delivered();
    assertEquals(served, delivered.stream().filter(served::contains).toList(), "each served call once, in order");
    // the acknowledged first call shared the killed gateway's segment, so it was sent again: metering-stream
    // drops it by its event id
    assertEquals(2, delivered.stream().filter(warmUp::equals).count());
  }

  @Test
  void shouldKeepWhatAReporterClosingDuringAnOutageCouldNotDeliver() throws Exception {
    Path spool = dir.resolve("closed");
    List<String> recorded = new ArrayList<>();
    UsageReporter reporter = new UsageReporter(keepingMetadata(kafka.bootstrapServers()), "gw-closing",
        Clock.systemUTC(), spool);
    recorded.add(reporter.record(call("k-closing")));
    reporter.flush();
    kafka.stopBroker();
    recorded.add(reporter.record(call("k-closing")));
    recorded.add(reporter.record(call("k-closing")));
    // the producer gives the unacknowledged events up when its close times out: that is no failure to deliver
    reporter.close(Duration.ofMillis(500));

    assertEquals(0, reporter.failed());
    try (UsageSpool left = UsageSpool.open(spool)) {
      assertEquals(recorded, left.leftovers().stream().map(UsageSpool.Spooled::eventId).toList(),
          "the two unacknowledged, and the acknowledged one that shares their segment");
    }
  }

  @Test
  void shouldNotKeepTheUsageOfACallItRefused() throws Exception {
    Path spool = dir.resolve("refused");
    Properties unreachable = UsageReporter.producerSettings("127.0.0.1:1", Duration.ofMillis(300), 1 << 20);
    try (UsageReporter reporter = new UsageReporter(unreachable, "gw-refusing", Clock.systemUTC(), spool)) {
      assertThrows(UsageReportingException.class, () -> reporter.record(call("k-refused")));
    }
    try (UsageSpool left = UsageSpool.open(spool)) {
      assertEquals(List.of(), left.leftovers(), "the call was refused, not served: its usage must never be sent");
    }
  }

  private static Properties keepingMetadata(String bootstrap) {
    Properties settings = UsageReporter.producerSettings(bootstrap, UsageReporter.FAIL_FAST_AFTER,
        UsageReporter.BUFFER_BYTES);
    settings.put(CommonClientConfigs.METADATA_RECOVERY_STRATEGY_CONFIG, "none");
    return settings;
  }

  private static UsageReporter.Call call(String key) {
    return new UsageReporter.Call("org-spool", key, "m", 1, 1, 0, 0, null);
  }

  private List<String> delivered() {
    return KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(), Topics.USAGE_EVENTS.name(),
            new StringDeserializer(), Topics.USAGE_EVENTS.valueSerde().deserializer()).stream()
        .filter(r -> r.key().equals("k-spool")).map(r -> r.value().getEventId()).toList();
  }

  private static List<Path> segments(Path spool) throws IOException {
    try (var files = Files.list(spool)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".spool")).toList();
    }
  }

  private static List<String> lines(Path log) {
    try {
      return Files.exists(log) ? Files.readAllLines(log) : List.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
