package dev.metering.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;

import dev.metering.client.AdminApiException;
import dev.metering.client.AdminClient;
import dev.metering.api.admin.CreateApiKey;
import dev.metering.client.AdminClient.UpdateApiKey;
import dev.metering.api.admin.ApiKeyInfo;
import dev.metering.config.Env;
import dev.metering.kafka.EmbeddedKafka;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.keys.Secrets;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * admin-api when its Kafka cluster goes away: it says so, it does not answer 500 while claiming to
 * be ready; and once the cluster is back it serves again without a restart. And when metering-stream
 * has not caught up with a key: it says so too, rather than that the key does not exist.
 */
class AdminApiOutageIT {

  @Test
  void shouldAnswer503WhileKafkaCannotTakeChangesAndServeAgainOnceItReturns() throws Exception {
    // issue 14: a broken change writer answered 500 to every change, revocations included, while /health/ready said 200
    String adminKey = Secrets.generate();
    EmbeddedKafka kafka = KafkaTestSupport.brokerWithTopics(1);
    AdminApi api = null;
    try {
      api = start(kafka, adminKey, "http://localhost:8081");
      AdminClient client = AdminClient.create("http://127.0.0.1:" + api.port(), adminKey);
      ApiKeyInfo key = client.apiKeys().create(CreateApiKey.named("before the outage"));
      assertEquals(200, ready(api));
      long keysBefore = keyCount(client);

      kafka.stopBroker();

      assertThrows(AdminApiException.Unavailable.class,
          () -> client.apiKeys().update(key.id(), UpdateApiKey.changes().maxTokensPerMonth(10L)));
      assertEquals(503, ready(api), "unready while no change can be written");

      // reads come from the instance's copy of the tables: an admin key revoked meanwhile through an
      // instance that still reaches Kafka would still be let in here, so once the copy of api-keys
      // cannot be confirmed current for the bound every admin request is refused instead
      KafkaTestSupport.await("reads refused once the keys cannot be confirmed current", Duration.ofSeconds(30),
          () -> {
            try {
              client.apiKeys().get(key.id());
              return false;
            } catch (AdminApiException.Unavailable refused) {
              return refused.getMessage().contains("cannot confirm with Kafka");
            }
          });

      kafka.startBroker();

      AdminApi serving = api;
      KafkaTestSupport.await("ready again once the broker is back", Duration.ofSeconds(60), () -> ready(serving) == 200);
      client.apiKeys().update(key.id(), UpdateApiKey.changes().maxTokensPerMonth(10L));
      assertEquals(10L, client.apiKeys().get(key.id()).maxTokensPerMonth(), "the change refused during the outage, made after it");
      ApiKeyInfo after = client.apiKeys().create(CreateApiKey.named("after the outage"));
      assertEquals(keysBefore + 1, keyCount(client), "the key made after the outage, once: " + after.id());
    } finally {
      kafka.close();
      if (api != null) {
        api.close();
      }
    }
  }

  @Test
  void shouldAnswer503ForItsOwnKeyWhileTheUsageServiceHasNotReadIt() throws Exception {
    // metering-stream answers 404 for a key it has read neither the record nor any usage of: just
    // made, or after a restart before it caught up (seen in BrokerRestartIT); that is no reason to
    // tell the key's owner that the key does not exist. A loopback server answers as it does then.
    HttpServer usage = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    usage.createContext("/v1/keys/", exchange -> {
      String id = exchange.getRequestURI().getPath().split("/")[3];
      byte[] body = ("{\"error\":{\"type\":\"not_found_error\",\"message\":\"no api key or usage is known for"
          + " api_key_id " + id + "\"}}").getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(404, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    usage.start();
    String adminKey = Secrets.generate();
    EmbeddedKafka kafka = KafkaTestSupport.brokerWithTopics(1);
    AdminApi api = null;
    try {
      api = start(kafka, adminKey, "http://127.0.0.1:" + usage.getAddress().getPort());
      AdminClient client = AdminClient.create("http://127.0.0.1:" + api.port(), adminKey);
      ApiKeyInfo key = client.apiKeys().create(CreateApiKey.named("not read yet"));

      HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
              "http://127.0.0.1:" + api.port() + "/v1/organizations/api_keys/" + key.id() + "/current_period"))
          .header("Authorization", "Bearer " + adminKey).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(503, answer.statusCode(), answer.body());
      assertEquals("1", answer.headers().firstValue("Retry-After").orElse(null));
      AdminApiException.Unavailable notYet = assertThrows(AdminApiException.Unavailable.class,
          () -> client.apiKeys().currentPeriod(key.id()));
      assertTrue(notYet.getMessage().contains("has not read API key " + key.id() + " yet"), notYet.getMessage());
      // a key that is not the caller's is still answered as not found, without asking the usage service
      assertThrows(AdminApiException.NotFound.class, () -> client.apiKeys().currentPeriod("key_not_made"));
    } finally {
      kafka.close();
      if (api != null) {
        api.close();
      }
      usage.stop(0);
    }
  }

  /** admin-api on loopback over {@code kafka}, bootstrapped with {@code adminKey}, asking metering-stream at {@code meteringUrl}. */
  private static AdminApi start(EmbeddedKafka kafka, String adminKey, String meteringUrl)
      throws InterruptedException {
    return AdminApi.start(AdminConfig.from(new Env(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
        "ADMIN_HTTP_PORT", "0",
        "ADMIN_HTTP_BIND", "127.0.0.1",
        "METERING_QUERY_URL", meteringUrl,
        "METERING_QUERY_TOKEN", Secrets.generate(),
        "METERING_WEBHOOK_SIGNING_KEY", "outage-it-webhook-signing-key-0123456789",
        "METERING_BOOTSTRAP_ADMIN_KEY", adminKey))), Clock.systemUTC());
  }

  private static long keyCount(AdminClient client) {
    return java.util.stream.StreamSupport.stream(client.apiKeys().list(null).spliterator(), false).count();
  }

  private static int ready(AdminApi api) {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port()
          + "/health/ready")).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
