package dev.metering.admin.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.metering.admin.http.ApiError;
import dev.metering.json.Json;
import dev.metering.keys.ServiceToken;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * How many usage queries admin-api lets run at once, overall and per organisation, against a
 * loopback server answering like metering-stream's query API whose report answers stay open (as
 * they do while a client reads a large report slowly) until the test lets them finish.
 */
class MeteringClientTest {

  private static final ServiceToken TOKEN = ServiceToken.of("metering-client-test-token");

  private final CountDownLatch finish = new CountDownLatch(1);
  private final List<InputStream> open = new ArrayList<>();
  private HttpServer server;
  private MeteringClient client;

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/v1/orgs/", exchange -> {
      byte[] totals = "{\"start_date\":\"2026-11-01\",\"end_date\":\"2026-11-02\"}".getBytes(StandardCharsets.UTF_8);
      if (exchange.getRequestURI().getPath().endsWith("/usage_report")) {
        // the head of a report at once, its end only when the test says so
        exchange.sendResponseHeaders(200, 0);
        try (OutputStream body = exchange.getResponseBody()) {
          body.write("{\"data\":[".getBytes(StandardCharsets.UTF_8));
          body.flush();
          finish.await(30, TimeUnit.SECONDS);
          body.write("]}".getBytes(StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      } else {
        exchange.sendResponseHeaders(200, totals.length);
        try (OutputStream body = exchange.getResponseBody()) {
          body.write(totals);
        }
      }
    });
    server.start();
    client = new MeteringClient("http://127.0.0.1:" + server.getAddress().getPort(), TOKEN, Json.mapper(), 8);
  }

  @AfterEach
  void stop() throws Exception {
    finish.countDown();
    for (InputStream stream : open) {
      stream.close();
    }
    server.stop(0);
  }

  @Test
  void shouldKeepAnOrganisationReadingReportsSlowlyFromTakingEveryOtherOnesQueries() throws Exception {
    for (int i = 0; i < 6; i++) {
      open.add(report("org-slow"));
    }

    ApiError refused = assertThrows(ApiError.class, () -> report("org-slow"));
    Map<?, ?> other = client.get("org-other", "/v1/orgs/org-other/usage", Map.of(), Map.class);

    assertEquals(503, refused.status());
    assertTrue(refused.getMessage().startsWith("this organisation already has 6 usage queries under way"),
        refused.getMessage());
    assertEquals("2026-11-01", other.get("start_date"), "another organisation is still answered");
    open.remove(0).close();
    open.add(report("org-slow"));
  }

  @Test
  void shouldRefuseQueriesBeyondTheLimitOfAllOrganisationsTogether() throws Exception {
    for (int i = 0; i < 6; i++) {
      open.add(report("org-a"));
    }
    open.add(report("org-b"));
    open.add(report("org-b"));

    ApiError refused = assertThrows(ApiError.class, () -> client.get("org-c", "/v1/orgs/org-c/usage", Map.of(),
        Map.class));

    assertEquals(503, refused.status());
    assertEquals("too many usage queries at once; retry shortly", refused.getMessage());
    open.remove(0).close();
    assertEquals("2026-11-01", client.get("org-c", "/v1/orgs/org-c/usage", Map.of(), Map.class).get("start_date"),
        "a closed report frees its place");
  }

  private InputStream report(String orgId) {
    return client.stream(orgId, "/v1/orgs/" + orgId + "/usage_report", Map.of());
  }
}
