package dev.metering.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.metering.json.Json;
import dev.metering.kafka.ClearOfUtcMidnight;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.kafka.KeyPartitions;
import dev.metering.alerts.AlertService;
import dev.metering.alerts.AlertServiceConfig;
import dev.metering.config.Env;
import dev.metering.local.LocalSystem;
import dev.metering.stream.MeteringApp;
import dev.metering.stream.MeteringConfig;
import dev.metering.stream.pricing.PriceBook;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code ./metering} run as a user runs it, a process per command, against the whole system in
 * this JVM (broker, metering-stream, alert-service, admin-api, gateway).
 */
@ExtendWith(ClearOfUtcMidnight.class)
class MeteringCliIT {

  private static final Path SCRIPT = Path.of("..", "metering").toAbsolutePath().normalize();
  private static LocalSystem system;

  @BeforeAll
  static void start() throws Exception {
    system = LocalSystem.start(Map.of(
        "METERING_HTTP_PORT", "0", "ADMIN_HTTP_PORT", "0", "GATEWAY_HTTP_PORT", "0", "SMTP_PORT", "0",
        "ALERT_HTTP_PORT", "0",
        // a gateway clock 8 s ahead is refused (see the dlq test) and then, once it is the past, accepted
        "METERING_FUTURE_TOLERANCE", "2s"), false);
  }

  @AfterAll
  static void stop() {
    if (system != null) {
      system.close();
    }
  }

  private record Result(int exit, String out, String err) {
    JsonNode json() throws IOException {
      return Json.mapper().readTree(out);
    }

    @Override
    public String toString() {
      return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
    }
  }

  private static Result metering(String... args) throws Exception {
    return metering(Map.of(), args);
  }

  private static Result metering(Map<String, String> envChanges, String... args) throws Exception {
    Path err = Files.createTempFile("metering-cli", ".err");
    try {
      Process process = start(envChanges, err, args);
      String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the command ended");
      return new Result(process.exitValue(), out, Files.readString(err));
    } finally {
      Files.delete(err);
    }
  }

  private static Process start(Map<String, String> envChanges, Path err, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(SCRIPT.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(err.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
    Map<String, String> env = builder.environment();
    env.put("METERING_URL", system.adminUrl());
    env.put("METERING_ADMIN_KEY", system.adminKey());
    env.put("KAFKA_BOOTSTRAP_SERVERS", system.bootstrapServers());
    for (Map.Entry<String, String> change : new HashMap<>(envChanges).entrySet()) {
      if (change.getValue() == null) {
        env.remove(change.getKey());
      } else {
        env.put(change.getKey(), change.getValue());
      }
    }
    return builder.start();
  }

  private static Result ok(String... args) throws Exception {
    Result result = metering(args);
    assertEquals(0, result.exit(), String.join(" ", args) + "\n" + result);
    return result;
  }

  @Test
  void shouldManageAKeyFromCreationToRevocationWithExitCodesScriptsCanUse() throws Exception {
    Result created = ok("keys", "create", "--name", "ci", "--max-tokens-per-month", "50000", "--hard-limit",
        "--output", "json");
    JsonNode key = created.json();
    String id = key.get("id").asText();
    assertTrue(key.get("key").asText().startsWith("sk-mtr-"), created.out());
    assertEquals(50000, key.get("max_tokens_per_month").asLong());
    assertTrue(key.get("hard_limit").asBoolean());
    assertTrue(created.err().contains("shown only now"), created.err());

    Result table = ok("keys", "list");
    assertTrue(table.out().lines().findFirst().orElseThrow().startsWith("ID"), table.out());
    String row = table.out().lines().filter(line -> line.startsWith(id)).findFirst().orElseThrow();
    assertTrue(row.contains(" ci ") && row.contains("active") && row.contains("50000"), row);
    assertFalse(table.out().contains(key.get("key").asText()), "the secret is never listed");
    List<String> csv = ok("keys", "list", "--output", "csv").out().lines().toList();
    assertTrue(csv.get(0).startsWith("id,type,org_id,name,"), csv.get(0));
    assertTrue(csv.stream().anyMatch(line -> line.startsWith(id + ",api_key,")), csv.toString());

    JsonNode got = ok("keys", "get", id, "-o", "json").json();
    assertFalse(got.has("key"), "the secret is shown once, never again");
    assertEquals(100000, ok("keys", "update", id, "--max-tokens-per-month", "100000", "-o", "json").json()
        .get("max_tokens_per_month").asLong());
    assertTrue(ok("keys", "update", id, "--max-tokens-per-month", "unlimited", "-o", "json").json()
        .get("max_tokens_per_month").isNull());
    assertEquals("12.50", ok("keys", "update", id, "--max-cost-per-month", "12.5", "-o", "json").json()
        .get("max_cost_per_month").asText());
    Result notDollars = metering("keys", "update", id, "--max-cost-per-month", "12.5.1");
    assertEquals(MeteringCli.REFUSED, notDollars.exit(), notDollars.toString());
    assertTrue(notDollars.err().contains("max_cost_per_month"), notDollars.err());
    Result rotated = ok("keys", "rotate", id, "--grace-period", "1h", "-o", "json");
    assertTrue(rotated.json().get("key").asText().startsWith("sk-mtr-"));
    assertFalse(rotated.json().get("previous_key_expires_at").isNull());
    assertEquals("revoked", ok("keys", "revoke", id, "-o", "json").json().get("status").asText());

    Result again = metering("keys", "revoke", id);
    assertEquals(MeteringCli.REFUSED, again.exit(), again.toString());
    assertTrue(again.err().contains("is revoked"), again.err());
    assertEquals(MeteringCli.NOT_FOUND, metering("keys", "get", "key_nope").exit());
    assertEquals(MeteringCli.DENIED, metering(Map.of("METERING_ADMIN_KEY", "sk-mtr-notakey"), "keys", "list").exit());
    Result unset = metering(Map.of("METERING_ADMIN_KEY", ""), "keys", "list");
    assertEquals(MeteringCli.USAGE, unset.exit());
    assertTrue(unset.err().contains("METERING_ADMIN_KEY is not set"), unset.err());
    assertEquals(MeteringCli.USAGE, metering("keys", "create").exit(), "--name is required");
    assertEquals(MeteringCli.UNAVAILABLE, metering(Map.of("METERING_URL", "http://127.0.0.1:1"), "keys", "list").exit());

    List<String> revoked = ok("audit", "list", "--event-types", "key_revoked", "-o", "csv").out().lines().toList();
    assertTrue(revoked.stream().anyMatch(line -> line.contains(id)), revoked.toString());
    assertTrue(revoked.stream().skip(1).allMatch(line -> line.contains(",key_revoked,")), revoked.toString());
  }

  @Test
  void shouldCreateListAndDeleteAlertRules() throws Exception {
    String key = ok("keys", "create", "--name", "alerted", "--max-tokens-per-month", "1000", "-o", "json").json()
        .get("id").asText();
    JsonNode rule = ok("alerts", "create", "--name", "80 percent", "--key-id", key, "--threshold-percent", "80",
        "--email", "ops@example.com", "-o", "json").json();
    String ruleId = rule.get("id").asText();
    assertTrue(ok("alerts", "list", "--key-id", key).out().contains(ruleId));

    Result refused = metering("alerts", "create", "--name", "x", "--key-id", key, "--threshold-percent", "150",
        "--email", "ops@example.com");
    assertEquals(MeteringCli.REFUSED, refused.exit(), refused.toString());
    assertTrue(refused.err().contains("threshold_percent"), refused.err());

    ok("alerts", "delete", ruleId);
    assertFalse(ok("alerts", "list", "--key-id", key).out().contains(ruleId));
    assertEquals(MeteringCli.NOT_FOUND, metering("alerts", "delete", ruleId).exit());
  }

  @Test
  void shouldSetShowAndRemoveTheOrganisationsBudgetWithARuleOnIt() throws Exception {
    JsonNode set = ok("budget", "set", "--max-cost-per-month", "250", "--hard-limit", "true", "-o", "json").json();
    assertEquals("250.00", set.get("max_cost_per_month").asText());
    assertTrue(set.get("hard_limit").asBoolean());
    assertTrue(set.get("max_tokens_per_month").isNull());
    JsonNode both = ok("budget", "set", "--max-tokens-per-month", "5000000", "-o", "json").json();
    assertEquals(5_000_000L, both.get("max_tokens_per_month").asLong());
    assertEquals("250.00", both.get("max_cost_per_month").asText(), "what is not given stays");
    assertTrue(ok("budget", "get").out().contains("250.00"));

    JsonNode rule = ok("alerts", "create", "--name", "budget 80%", "--threshold-percent", "80",
        "--email", "finance@example.com", "-o", "json").json();
    assertTrue(rule.get("key_id").isNull(), "no --key-id: a rule on the organisation's budget");
    Result refused = metering("budget", "set", "--max-cost-per-month", "12.1234567");
    assertEquals(MeteringCli.REFUSED, refused.exit(), refused.toString());
    assertTrue(refused.err().contains("max_cost_per_month"), refused.err());

    JsonNode removed = ok("budget", "set", "--max-cost-per-month", "unlimited", "--max-tokens-per-month", "unlimited",
        "--hard-limit", "false", "-o", "json").json();
    assertTrue(removed.get("max_cost_per_month").isNull() && removed.get("max_tokens_per_month").isNull());
    ok("alerts", "delete", rule.get("id").asText());
  }

  @Test
  void shouldReportUsageByKeyAndInBucketsAsCsv() throws Exception {
    String key = ok("keys", "create", "--name", "reported", "-o", "json").json().get("id").asText();
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(system.bootstrapServers())) {
      for (int i = 0; i < 3; i++) {
        producer.send(record(event(key, System.currentTimeMillis(), 1000, 200)));
      }
    }
    KafkaTestSupport.await("the key's usage in usage by-key", Duration.ofSeconds(60), () -> {
      try {
        return metering("usage", "by-key", "--output", "csv").out().lines()
            .anyMatch(line -> line.startsWith(key + ",reported,3000,600,0,0,3600,3,"));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    List<String> byKey = ok("usage", "by-key", "--output", "csv").out().lines().toList();
    assertEquals("api_key_id,key_name,total_input_tokens,total_output_tokens,total_cache_creation_input_tokens,"
        + "total_cache_read_input_tokens,total_tokens,requests,estimated_cost,cost_micros", byKey.get(0));

    LocalDate today = LocalDate.now(ZoneOffset.UTC);
    List<String> hours = ok("usage", "report", "--key-id", key, "--bucket-width", "1h", "--group-by", "model",
        "--start", today.toString(), "--end", today.toString(), "-o", "csv").out().lines().toList();
    assertEquals(2, hours.size(), "a header and the one hour with usage: " + hours);
    assertTrue(hours.get(1).contains("," + key + ",claude-sonnet-4-5,3000,600,"), hours.toString());
    assertTrue(ok("usage", "summary", "-o", "json").json().get("total_tokens").asLong() >= 3600);
    JsonNode month = ok("usage", "current-period", key, "-o", "json").json();
    assertEquals(3600, month.at("/usage/total_tokens").asLong());
    assertTrue(month.at("/projected/total_tokens").asLong() >= 3600, month.toString());
    assertTrue(ok("usage", "current-period", key).out().contains("PROJECTED.ESTIMATED_COST"), "one record as fields");
    assertTrue(ok("usage", "current-period", "-o", "json").json().at("/usage/total_tokens").asLong() >= 3600,
        "without a key, the organisation's month");
  }

  @Test
  void shouldFollowTheAuditLog() throws Exception {
    Path err = Files.createTempFile("metering-cli-tail", ".err");
    Process tail = start(Map.of(), err, "audit", "tail", "--event-types", "key_created", "--lines", "0",
        "--interval", "1s", "--max-records", "1", "--output", "json");
    try {
      // keys are created until the tail prints one: the first may come before the tail's first look
      // (then it is old news, with --lines 0), a later one is new
      String id = null;
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (tail.isAlive() && System.nanoTime() < deadline) {
        id = ok("keys", "create", "--name", "followed", "-o", "json").json().get("id").asText();
        if (tail.waitFor(3, TimeUnit.SECONDS)) {
          break;
        }
      }
      assertFalse(tail.isAlive(), "the tail printed one record and stopped");
      assertEquals(0, tail.exitValue());
      JsonNode line = Json.mapper().readTree(new String(tail.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
      assertEquals("key_created", line.get("event_type").asText());
      assertTrue(line.get("description").asText().contains("followed"), line.toString());
      assertTrue(id != null);
    } finally {
      tail.destroyForcibly();
      Files.delete(err);
    }
  }

  @Test
  void shouldShowCountAndReplayDeadLettersCountingEachEventOnce() throws Exception {
    String key = ok("keys", "create", "--name", "replayed", "-o", "json").json().get("id").asText();
    long ahead = System.currentTimeMillis() + 8_000;
    UsageEvent early = event(key, ahead, 500, 50);
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(system.bootstrapServers())) {
      producer.send(record(early));
      producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), key, "not avro".getBytes(StandardCharsets.UTF_8)));
    }

    KafkaTestSupport.await("both records dead-lettered", Duration.ofSeconds(30), () -> {
      try {
        String stats = metering("dlq", "stats", "-o", "csv").out();
        return stats.contains(",FUTURE_EVENT,") && stats.contains(",UNDECODABLE,");
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    JsonNode shown = null;
    for (JsonNode record : ok("dlq", "show", "--reason", "FUTURE_EVENT", "-o", "json").json()) {
      if (record.path("event").path("event_id").asText().equals(early.getEventId())) {
        shown = record;
      }
    }
    assertTrue(shown != null, "the refused event, decoded");
    assertEquals(key, shown.get("event").get("api_key_id").asText());
    assertTrue(shown.get("message").asText().contains("ahead"), shown.toString());
    assertEquals("usage-events/", shown.get("source").asText().substring(0, "usage-events/".length()));
    String undecodable = ok("dlq", "show", "--reason", "UNDECODABLE", "-o", "json").json().get(0).get("value_base64")
        .asText();
    assertFalse(undecodable.isEmpty());

    Result unchosen = metering("dlq", "replay");
    assertEquals(MeteringCli.USAGE, unchosen.exit(), "replay needs a choice: " + unchosen);
    String offsets = shown.get("partition").asInt() + ":" + shown.get("offset").asLong();
    assertEquals("would replay", ok("dlq", "replay", "--offsets", offsets, "--dry-run", "-o", "json").json().get(0)
        .get("status").asText());
    // the gateway's clock was ahead: once its timestamp is the past, the event is accepted
    KafkaTestSupport.await("the event time to pass", Duration.ofSeconds(20), () -> System.currentTimeMillis() > ahead);
    JsonNode replayed = ok("dlq", "replay", "--offsets", offsets, "-o", "json").json();
    assertEquals(1, replayed.size());
    assertEquals(early.getEventId(), replayed.get(0).get("event_id").asText());
    KafkaTestSupport.await("the replayed event counted", Duration.ofSeconds(60), () -> tokensOf(key) == 550);

    // replaying it again, then one more event on the same key: the second counts, the replay not again
    ok("dlq", "replay", "--offsets", offsets);
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(system.bootstrapServers())) {
      producer.send(record(event(key, System.currentTimeMillis(), 7, 0)));
    }
    KafkaTestSupport.await("the later event counted", Duration.ofSeconds(60), () -> tokensOf(key) != 550);
    assertEquals(557, tokensOf(key), "the event replayed twice is counted once");
  }

  @Test
  void shouldSayWhichKafkaDidNotAnswerInOneLineInsteadOfAWallOfClientWarnings() throws Exception {
    // thirty WARN lines of Kafka's clients came before "error: Timeout expired while fetching topic metadata"
    int closedPort;
    try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
      closedPort = socket.getLocalPort();
    }

    Result result = metering(Map.of("KAFKA_BOOTSTRAP_SERVERS", "localhost:" + closedPort), "dlq", "stats");

    assertEquals(MeteringCli.UNAVAILABLE, result.exit(), result.toString());
    assertEquals(List.of("error: Timeout expired while fetching topic metadata: no answer from Kafka at localhost:"
        + closedPort + " (set KAFKA_BOOTSTRAP_SERVERS to a broker of the metering cluster)"),
        result.err().lines().toList());
  }

  @Test
  void shouldReplayARecordAGatewayKeyedWronglyUnderItsApiKeyId() throws Exception {
    String key = ok("keys", "create", "--name", "rekeyed", "-o", "json").json().get("id").asText();
    UsageEvent event = event(key, System.currentTimeMillis(), 300, 30);
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(system.bootstrapServers())) {
      // a gateway's bug: the record key is not the api_key_id, so it sits in another key's partition
      producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), "gateway-7", Topics.USAGE_EVENTS.encode(event)));
      producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), "gateway-7", "not avro".getBytes(
          StandardCharsets.UTF_8)));
    }
    List<String> offsets = new ArrayList<>();
    KafkaTestSupport.await("both records dead-lettered", Duration.ofSeconds(30), () -> {
      offsets.clear();
      try {
        for (JsonNode record : ok("dlq", "show", "--limit", "1000", "-o", "json").json()) {
          boolean mine = record.path("event").path("event_id").asText().equals(event.getEventId())
              || (record.get("reason").asText().equals("UNDECODABLE") && record.get("key").asText().equals("gateway-7"));
          if (mine) {
            offsets.add(record.get("partition").asInt() + ":" + record.get("offset").asLong());
          }
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return offsets.size() == 2;
    });

    JsonNode planned = ok("dlq", "replay", "--offsets", String.join(",", offsets), "--rekey", "--dry-run", "-o",
        "json").json();
    JsonNode replayed = ok("dlq", "replay", "--offsets", String.join(",", offsets), "--rekey", "-o", "json").json();

    assertEquals(Set.of("would replay keyed by its api_key_id", "not replayed: not a usage event, so no api_key_id to"
        + " key it by"), Set.of(planned.get(0).get("status").asText(), planned.get(1).get("status").asText()));
    JsonNode sent = replayed.get(0).get("event_id").asText().equals(event.getEventId()) ? replayed.get(0)
        : replayed.get(1);
    assertEquals("replayed keyed by its api_key_id", sent.get("status").asText());
    KafkaTestSupport.await("the re-keyed event counted", Duration.ofSeconds(60), () -> tokensOf(key) == 330);
  }

  @Test
  void shouldCountAnotherCallSentUnderACountedIdOnceReplayedUnderAnIdOfItsOwn() throws Exception {
    String key = ok("keys", "create", "--name", "reused-ids", "-o", "json").json().get("id").asText();
    UsageEvent first = event(key, System.currentTimeMillis(), 300, 30);
    UsageEvent second = UsageEvent.newBuilder(event(key, first.getTimestamp() + 1, 500, 50))
        .setEventId(first.getEventId()).build();
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(system.bootstrapServers())) {
      // a gateway's bug: two calls under one event_id
      producer.send(record(first));
      producer.send(record(second));
      producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), key, "not avro".getBytes(StandardCharsets.UTF_8)));
    }
    String[] offset = {null, null};
    KafkaTestSupport.await("the second call and the bytes dead-lettered", Duration.ofSeconds(30), () -> {
      try {
        for (JsonNode record : ok("dlq", "show", "--limit", "1000", "-o", "json").json()) {
          String at = record.get("partition").asInt() + ":" + record.get("offset").asLong();
          if (record.path("event").path("event_id").asText().equals(first.getEventId())) {
            offset[0] = at;
          } else if (record.get("reason").asText().equals("UNDECODABLE") && record.get("key").asText().equals(key)) {
            offset[1] = at;
          }
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return offset[0] != null && offset[1] != null;
    });
    assertEquals(330, tokensOf(key), "the first call counted, the second not");
    JsonNode planned = ok("dlq", "replay", "--offsets", offset[1], "--own-event-id", "--dry-run", "-o", "json").json();
    assertEquals("not replayed: only a CONFLICTING_DUPLICATE gets an event_id of its own: another record's event may"
        + " be counted under its own id already, and would be counted twice", planned.get(0).get("status").asText());

    JsonNode replayed = ok("dlq", "replay", "--offsets", offset[0], "--own-event-id", "-o", "json").json();
    ok("dlq", "replay", "--offsets", offset[0], "--own-event-id");
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(system.bootstrapServers())) {
      producer.send(record(event(key, System.currentTimeMillis(), 1, 0))); // after both replays, in their partition
    }

    String ownId = "dlq-" + offset[0].replace(':', '-') + "-" + first.getEventId();
    assertEquals("replayed as event_id " + ownId, replayed.get(0).get("status").asText());
    KafkaTestSupport.await("the second call counted once, however often replayed", Duration.ofSeconds(60),
        () -> tokensOf(key) == 881);
  }

  @Test
  void shouldReplayARecordAProducerPutInAnotherPartitionIntoItsKeysOwn() throws Exception {
    String key = ok("keys", "create", "--name", "misplaced", "-o", "json").json().get("id").asText();
    UsageEvent event = event(key, System.currentTimeMillis(), 200, 20);
    int partitions;
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(system.bootstrapServers())) {
      // keyed right, but placed by a producer that chose the partition itself
      partitions = producer.partitionsFor(Topics.USAGE_EVENTS.name()).size();
      int elsewhere = (KeyPartitions.of(key, partitions) + 1) % partitions;
      producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), elsewhere, key, Topics.USAGE_EVENTS.encode(event)));
    }
    String[] offset = {null};
    KafkaTestSupport.await("the record dead-lettered", Duration.ofSeconds(30), () -> {
      try {
        for (JsonNode record : ok("dlq", "show", "--reason", "WRONG_PARTITION", "-o", "json").json()) {
          if (record.path("event").path("event_id").asText().equals(event.getEventId())) {
            offset[0] = record.get("partition").asInt() + ":" + record.get("offset").asLong();
          }
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
      return offset[0] != null;
    });
    assertEquals(0, tokensOf(key), "not counted where it was");

    ok("dlq", "replay", "--offsets", offset[0]);

    KafkaTestSupport.await("the replayed event counted in its key's partition", Duration.ofSeconds(60),
        () -> tokensOf(key) == 220);
  }

  @Test
  void shouldRetireAStoppedStaticInstanceSoTheOthersTakeItsPartitionsBeforeTheSessionTimeout() throws Exception {
    Map<String, String> env = new HashMap<>(Map.of("KAFKA_BOOTSTRAP_SERVERS", system.bootstrapServers(),
        "METERING_TOPIC_PARTITIONS", "3", "METERING_QUERY_TOKEN", dev.metering.keys.Secrets.generate(),
        "METERING_WEBHOOK_SIGNING_KEY", dev.metering.keys.Secrets.generate(), "METERING_HTTP_PORT", "0",
        "ALERT_HTTP_PORT", "0", "METERING_ROCKSDB_MEMORY_MB", "32"));
    env.put("METERING_STATE_DIR", Files.createTempDirectory("cli-it-second").toString());
    env.put("METERING_INSTANCE_ID", "stream-b");
    env.put("ALERT_SERVICE_INSTANCE_ID", "alerts-b");
    env.put("SMTP_HOST", "127.0.0.1");
    env.put("SMTP_PORT", Integer.toString(system.smtp().getSmtp().getPort()));
    MeteringApp stream = MeteringApp.start(MeteringConfig.from(new Env(env)), PriceBook.bundled());
    AlertService alerts = AlertService.start(AlertServiceConfig.from(new Env(env)), java.time.Clock.systemUTC());
    boolean stopped = false;
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", system.bootstrapServers()))) {
      KafkaTestSupport.await("both second instances to hold partitions", Duration.ofSeconds(90),
          () -> held(admin, "metering-stream", "stream-b-") > 0 && held(admin, "alert-service", "alerts-b") > 0);
      JsonNode listed = ok("instances", "list", "-o", "json").json();
      assertTrue(listed.toString().contains("\"instance_id\":\"alerts-b-dispatcher\""), listed.toString());
      assertTrue(listed.toString().contains("\"instance_id\":\"stream-b-1\""), listed.toString());

      // stopped for good, as in a scale-down: static members stay in their groups for the 45 s
      // session timeout in case they come back, holding their partitions
      alerts.close();
      stream.close();
      stopped = true;
      assertTrue(held(admin, "alert-service", "alerts-b") > 0, "the stopped instance still holds its partitions");
      long retiredAt = System.nanoTime();
      JsonNode retired = ok("instances", "retire", "alerts-b", "-o", "json").json();
      assertEquals(Set.of("alert-service/alerts-b", "alert-service-dispatcher/alerts-b-dispatcher"),
          members(retired), retired.toString());
      retired = ok("instances", "retire", "stream-b", "-o", "json").json();
      assertEquals(Set.of("metering-stream/stream-b-1", "metering-stream/stream-b-2"), members(retired),
          retired.toString());

      KafkaTestSupport.await("the first instances to hold every partition", Duration.ofSeconds(25),
          () -> held(admin, "alert-service", "alert-service-0") == 3 && held(admin, "alert-service", "alerts-b") == 0
              && held(admin, "metering-stream", "stream-b-") == 0 && held(admin, "metering-stream", "") == 3);
      assertTrue(System.nanoTime() - retiredAt < Duration.ofSeconds(40).toNanos(), "well before the session timeout");
    } finally {
      if (!stopped) {
        alerts.close();
        stream.close();
      }
    }
    Result again = metering("instances", "retire", "alerts-b");
    assertEquals(MeteringCli.NOT_FOUND, again.exit(), again.toString());
    assertTrue(again.err().contains("no member of instance alerts-b"), again.toString());
  }

  /**
   * How many partitions of the group's input topic (limit-events for alert-service, usage-events
   * for metering-stream) its members whose instance id starts with {@code prefix} hold now.
   */
  private static int held(Admin admin, String group, String prefix) {
    String topic = group.equals("alert-service") ? Topics.LIMIT_EVENTS.name() : Topics.USAGE_EVENTS.name();
    try {
      return admin.describeConsumerGroups(List.of(group)).all().get().get(group).members().stream()
          .filter(m -> m.groupInstanceId().orElse("").startsWith(prefix))
          .mapToInt(m -> (int) m.assignment().topicPartitions().stream().filter(tp -> tp.topic().equals(topic)).count())
          .sum();
    } catch (Exception notYet) {
      return -1;
    }
  }

  private static Set<String> members(JsonNode rows) {
    Set<String> members = new java.util.TreeSet<>();
    rows.forEach(row -> members.add(row.get("group").asText() + "/" + row.get("instance_id").asText()));
    return members;
  }

  private static long tokensOf(String key) {
    try {
      return system.adminClient().usage().byKey(LocalDate.now(ZoneOffset.UTC).withDayOfMonth(1),
              LocalDate.now(ZoneOffset.UTC)).stream()
          .filter(u -> u.apiKeyId().equals(key)).mapToLong(u -> u.totalTokens()).sum();
    } catch (RuntimeException notYet) {
      return -1;
    }
  }

  private static UsageEvent event(String key, long timestamp, long input, long output) {
    return UsageEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setOrgId("org-default").setApiKeyId(key)
        .setModel("claude-sonnet-4-5").setInputTokens(input).setOutputTokens(output).setCacheCreationInputTokens(0)
        .setCacheReadInputTokens(0).setTimestamp(timestamp).setGatewayId("cli-it").build();
  }

  private static ProducerRecord<String, byte[]> record(UsageEvent event) {
    return new ProducerRecord<>(Topics.USAGE_EVENTS.name(), event.getApiKeyId(), Topics.USAGE_EVENTS.encode(event));
  }
}
