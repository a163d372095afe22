package dev.metering.alerts.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.metering.records.Notification;
import dev.metering.records.NotificationChannel;
import dev.metering.webhooks.WebhookSigning;
import dev.metering.webhooks.WebhookTargets;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The webhook channel against a real HTTP server on loopback. */
class WebhookChannelTest {

  private static final WebhookSigning SIGNING = new WebhookSigning("channel-test-signing-key-0123456789abcdef");

  private HttpServer server;
  private final List<Boolean> verified = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    String secret = SIGNING.secretFor("alr_1", 3);
    server.createContext("/", exchange -> {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      var headers = exchange.getRequestHeaders();
      verified.add(WebhookSigning.verify(secret, headers.getFirst("webhook-id"), headers.getFirst("webhook-timestamp"),
          headers.getFirst("webhook-signature"), body, Clock.systemUTC().instant().getEpochSecond()));
      exchange.sendResponseHeaders(204, -1);
      exchange.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  @Test
  void shouldRefuseALoopbackTargetWhenItIsSentWithoutReachingIt() throws Exception {
    // issue 14: checked on the resolved address at send time too, whatever admin-api accepted
    WebhookChannel channel = new WebhookChannel(SIGNING, new WebhookTargets(true, List.of()), Duration.ofSeconds(2),
        Clock.systemUTC());

    Attempt attempt = channel.send(notification("http://localhost:" + server.getAddress().getPort() + "/hook", "alr_1:3"))
        .get();

    Attempt.Failed failed = assertInstanceOf(Attempt.Failed.class, attempt);
    assertTrue(failed.detail().contains("loopback"), failed.detail());
    assertEquals(List.of(), verified, "the server was never called");
    channel.close();
  }

  @Test
  void shouldSignWithTheRulesOwnSecretWhenTheTargetIsAllowed() throws Exception {
    WebhookChannel channel = new WebhookChannel(SIGNING, new WebhookTargets(true, List.of("127.0.0.1/32")),
        Duration.ofSeconds(2), Clock.systemUTC());
    String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";

    Attempt own = channel.send(notification(url, "alr_1:3")).get();
    Attempt other = channel.send(notification(url, "alr_2:3")).get();

    assertInstanceOf(Attempt.Delivered.class, own);
    assertInstanceOf(Attempt.Delivered.class, other);
    assertEquals(List.of(true, false), verified, "only rule alr_1's secret at version 3 verifies its webhook");
    channel.close();
  }

  @Test
  void shouldRetryWithinTheBackoffCapWhenRetryAfterIsHuge() throws Exception {
    // a Retry-After of Long.MAX_VALUE seconds used to overflow in milliseconds and fail the alert for good
    server.createContext("/busy", exchange -> {
      exchange.getResponseHeaders().add("Retry-After", Long.toString(Long.MAX_VALUE));
      exchange.sendResponseHeaders(503, -1);
      exchange.close();
    });
    WebhookChannel channel = new WebhookChannel(SIGNING, new WebhookTargets(true, List.of("127.0.0.1/32")),
        Duration.ofSeconds(2), Clock.systemUTC());

    Attempt attempt = channel.send(notification("http://127.0.0.1:" + server.getAddress().getPort() + "/busy",
        "alr_1:3")).get();

    Attempt.Retry retry = assertInstanceOf(Attempt.Retry.class, attempt);
    Duration wait = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5)).before(2, retry.after().orElseThrow());
    assertEquals(Duration.ofMinutes(5), wait, "the server's wait, capped by the backoff's maximum");
    channel.close();
  }

  private static Notification notification(String url, String signingKey) {
    return Notification.newBuilder().setId("ntf_" + signingKey.replace(':', '_')).setOrgId("org-1").setApiKeyId("key-1")
        .setChannel(NotificationChannel.WEBHOOK).setTarget(url).setSubject("s").setBody("{\"id\":1}")
        .setCause("test").setCreatedAt(0L).setSigningKey(signingKey).build();
  }
}
