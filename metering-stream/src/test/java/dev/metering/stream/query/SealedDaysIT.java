package dev.metering.stream.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.json.Json;
import dev.metering.kafka.KafkaBroker;
import dev.metering.records.UsageEvent;
import dev.metering.stream.MeteringApp;
import dev.metering.stream.TestCluster;
import dev.metering.stream.Workload;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Org reports by key over days that are sealed (no partition can accept usage for them with a
 * one-hour grace) and days that are not: the days kept rendered give the same pages as the days
 * read on the spot, and both give every key's usage of every day as the test computed it.
 */
class SealedDaysIT {

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final ObjectMapper JSON = Json.mapper();
  private static final String ORG = "org-0";

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(4);
  private static Workload workload;
  private static MeteringApp app;
  private static String range;

  @BeforeAll
  static void meterSixDaysInTimeOrder() throws Exception {
    long now = System.currentTimeMillis();
    workload = new Workload(5, 12, 3000, now - Duration.ofDays(6).toMillis(), now - Duration.ofHours(2).toMillis());
    // in time order, as gateways send it: with a one-hour grace, older events would be dead-lettered
    workload.events.sort(Comparator.comparingLong(UsageEvent::getTimestamp));
    TestCluster.produce(kafka.bootstrapServers(), workload);
    app = TestCluster.startInstance(kafka.bootstrapServers(), "sealed-it-" + UUID.randomUUID(),
        Map.of("METERING_LATE_GRACE", "PT1H", "METERING_ROCKSDB_MEMORY_MB", "32",
            // an idle announcement would seal one more day in the middle of the test
            "METERING_PARTITION_IDLE_AFTER", "PT1H"));
    assertTrue(app.awaitRunning(Duration.ofSeconds(60)), "RUNNING");
    LocalDate first = LocalDate.ofInstant(Instant.ofEpochMilli(now), ZoneOffset.UTC).minusDays(7);
    range = "starting_at=" + first + "T00:00:00Z&ending_at=" + first.plusDays(8) + "T00:00:00Z";
    long orgEvents = workload.events.stream().filter(e -> e.getOrgId().equals(ORG)).count();
    TestCluster.await("the org's usage metered", Duration.ofSeconds(90), () -> {
      try {
        Response totals = get("/v1/orgs/" + ORG + "/usage?start_date=" + first + "&end_date=" + first.plusDays(7));
        return totals.status == 200 && totals.body.at("/usage/requests").asLong() == orgEvents;
      } catch (Exception notYet) {
        return false;
      }
    });
  }

  @AfterAll
  static void stop() {
    if (app != null) {
      app.close();
    }
  }

  @Test
  void sealedDaysKeptRenderedGiveTheSamePagesAsReadingThemAndTheComputedUsage() throws Exception {
    Map<String, Long> expected = new TreeMap<>();
    workload.events.stream().filter(e -> e.getOrgId().equals(ORG)).forEach(e -> expected.merge(
        e.getApiKeyId() + " " + LocalDate.ofInstant(Instant.ofEpochMilli(e.getTimestamp()), ZoneOffset.UTC),
        e.getOutputTokens(), Long::sum));

    List<JsonNode> firstWalk = walk();
    double missesAfterFirst = sealedDays("miss");
    List<JsonNode> secondWalk = walk();

    assertEquals(firstWalk, secondWalk, "the same pages, rendered once or kept");
    Map<String, Long> reported = new TreeMap<>();
    for (JsonNode page : secondWalk) {
      page.get("data").forEach(bucket -> bucket.get("results").forEach(r -> reported.merge(
          r.get("api_key_id").asText() + " " + bucket.get("starting_at").asText().substring(0, 10),
          r.at("/usage/output_tokens").asLong(), Long::sum)));
    }
    assertEquals(expected, reported, "every key's usage of every day, once");
    // six days of usage ending two hours ago: at least four whole days are past every partition's grace
    assertTrue(missesAfterFirst >= 4, "sealed days read and rendered once: " + missesAfterFirst);
    assertEquals(missesAfterFirst, sealedDays("miss"), "and not again");
    assertEquals(3 * missesAfterFirst, sealedDays("hit"), "kept for the first walk's second page and the whole second walk");
  }

  /** Every page of the org's daily report by key, three keys a page. */
  private static List<JsonNode> walk() throws Exception {
    List<JsonNode> pages = new ArrayList<>();
    String first = "/v1/orgs/" + ORG + "/usage_report?bucket_width=1d&group_by=api_key_id&limit=3&" + range;
    String path = first;
    while (path != null) {
      Response page = get(path);
      assertEquals(200, page.status, path + " -> " + page.body);
      pages.add(page.body);
      path = page.body.get("has_more").asBoolean() ? first + "&page=" + page.body.get("next_page").asText() : null;
    }
    assertEquals(2, pages.size(), "six keys of org-0, three a page");
    return pages;
  }

  private static double sealedDays(String result) throws Exception {
    String metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.httpPort() + "/metrics"))
        .build(), HttpResponse.BodyHandlers.ofString()).body();
    Matcher value = Pattern.compile("metering_query_sealed_days_total\\{result=\"" + result + "\"} (\\S+)")
        .matcher(metrics);
    assertTrue(value.find(), "metering_query_sealed_days_total{result=\"" + result + "\"} in /metrics");
    return Double.parseDouble(value.group(1));
  }

  private record Response(int status, JsonNode body) {
  }

  private static Response get(String path) throws Exception {
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + app.httpPort() + path))
        .header("Authorization", app.queryToken().authorization())
        .timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
    return new Response(response.statusCode(), JSON.readTree(response.body()));
  }
}
