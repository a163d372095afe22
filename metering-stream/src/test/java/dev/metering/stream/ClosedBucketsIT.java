package dev.metering.stream;

import static dev.metering.stream.MeteringFixture.event;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.json.Json;
import dev.metering.kafka.KafkaBroker;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Org reports by key keep the buckets the late grace has closed already rendered: two instances,
 * a one-hour grace, keys on every partition. Asked again, a report is the same, its closed days
 * come from the cache, and new usage of today still shows.
 */
class ClosedBucketsIT {

  private static final int PARTITIONS = 4;
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final ObjectMapper JSON = Json.mapper();
  private static final Pattern HITS = Pattern.compile(
      "metering_query_closed_buckets_total\\{[^}]*result=\"hit\"[^}]*} ([0-9.E]+)");

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(PARTITIONS);

  @Test
  void shouldServeClosedDaysRenderedAndStillShowTodaysNewUsage() throws Exception {
    Instant now = Instant.now();
    LocalDate today = LocalDate.ofInstant(now, ZoneOffset.UTC);
    List<String> keys = keysOnEveryPartition();
    List<UsageEvent> events = new ArrayList<>();
    // a week of usage in time order, ending now on every key, so every partition's stream time is now
    for (int day = 6; day >= 1; day--) {
      Instant noon = today.minusDays(day).atTime(12, 0).toInstant(ZoneOffset.UTC);
      for (int k = 0; k < keys.size(); k++) {
        events.add(event(keys.get(k), noon.plusSeconds(k), 100L * day + k));
      }
    }
    for (int k = 0; k < keys.size(); k++) {
      events.add(event(keys.get(k), now.minusSeconds(keys.size() - k), 7));
    }
    send(events);

    String applicationId = "closed-buckets-it-" + UUID.randomUUID();
    try (MeteringApp a = start(applicationId); MeteringApp b = start(applicationId)) {
      assertTrue(a.awaitRunning(Duration.ofSeconds(60)) && b.awaitRunning(Duration.ofSeconds(60)), "both RUNNING");
      TestCluster.await("every event metered", Duration.ofSeconds(90),
          () -> a.ready() && b.ready() && TestCluster.consumed(a) + TestCluster.consumed(b) == events.size());
      String report = "/v1/orgs/" + MeteringFixture.ORG + "/usage_report?bucket_width=1d&group_by=api_key_id"
          + "&starting_at=" + today.minusDays(6) + "T00:00:00Z";

      JsonNode first = ok(a, report);
      assertEquals(expected(events), inputTokens(first));
      double hitsBefore = hits(a);
      JsonNode second = ok(a, report);
      assertEquals(first, second, "asked again, the same report");
      assertTrue(hits(a) >= hitsBefore + 5, "the five days before yesterday come rendered: " + hits(a));
      assertEquals(first, ok(b, report), "the same report from the other instance");

      UsageEvent more = event(keys.get(0), now, 1_000);
      send(List.of(more));
      List<UsageEvent> all = new ArrayList<>(events);
      all.add(more);
      TestCluster.await("today's new usage in the report", Duration.ofSeconds(30), () -> {
        try {
          return inputTokens(ok(a, report)).equals(expected(all));
        } catch (Exception e) {
          return false;
        }
      });
      JsonNode third = ok(a, report);
      assertNotEquals(first.get("data").get(6), third.get("data").get(6), "today changed");
      for (int day = 0; day < 5; day++) {
        assertEquals(first.get("data").get(day), third.get("data").get(day), "closed day " + day + " as it was");
      }
    }
  }

  /** Twelve keys of the test org, at least one on each usage-events partition. */
  private static List<String> keysOnEveryPartition() {
    List<String> keys = new ArrayList<>();
    Set<Integer> partitions = new HashSet<>();
    for (int i = 0; keys.size() < 12 || partitions.size() < PARTITIONS; i++) {
      String key = "key-" + i;
      partitions.add(Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % PARTITIONS);
      keys.add(key);
    }
    return keys;
  }

  /** Input tokens by day (yyyy-MM-dd) and key. */
  private static Map<String, Map<String, Long>> expected(List<UsageEvent> events) {
    Map<String, Map<String, Long>> byDay = new TreeMap<>();
    for (UsageEvent e : events) {
      byDay.computeIfAbsent(Instant.ofEpochMilli(e.getTimestamp()).atOffset(ZoneOffset.UTC).toLocalDate().toString(),
          d -> new TreeMap<>()).merge(e.getApiKeyId(), e.getInputTokens(), Long::sum);
    }
    return byDay;
  }

  private static Map<String, Map<String, Long>> inputTokens(JsonNode report) {
    Map<String, Map<String, Long>> byDay = new TreeMap<>();
    report.get("data").forEach(bucket -> bucket.get("results").forEach(r ->
        byDay.computeIfAbsent(bucket.get("starting_at").asText().substring(0, 10), d -> new TreeMap<>())
            .merge(r.get("api_key_id").asText(), r.at("/usage/input_tokens").asLong(), Long::sum)));
    return byDay;
  }

  private static void send(List<UsageEvent> events) {
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
      for (UsageEvent e : events) {
        producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), e.getApiKeyId(),
            Topics.USAGE_EVENTS.encode(e)));
      }
      producer.flush();
    }
  }

  private static MeteringApp start(String applicationId) throws Exception {
    return TestCluster.startInstance(kafka.bootstrapServers(), applicationId,
        Map.of("METERING_LATE_GRACE", "1h", "METERING_ROCKSDB_MEMORY_MB", "16"));
  }

  private static double hits(MeteringApp app) throws Exception {
    Matcher hits = HITS.matcher(get(app, "/metrics"));
    return hits.find() ? Double.parseDouble(hits.group(1)) : 0;
  }

  private static JsonNode ok(MeteringApp app, String path) throws Exception {
    return JSON.readTree(get(app, path));
  }

  private static String get(MeteringApp app, String path) throws Exception {
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + app.httpPort() + path)).header("Authorization", app.queryToken().authorization())
            .timeout(Duration.ofSeconds(15)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, response.statusCode(), path + " -> " + response.body());
    return response.body();
  }
}
