package dev.metering.local;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.metering.api.admin.ApiKeyInfo;
import dev.metering.api.admin.CreateApiKey;
import dev.metering.api.admin.AuditLogEntry;
import dev.metering.client.AdminApiException;
import dev.metering.client.AdminClient;
import dev.metering.kafka.ClearOfUtcMidnight;
import dev.metering.kafka.KafkaTestSupport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole system through a restart of its Kafka broker (the same address and logs, as an
 * operator's rolling restart or a network cut looks to clients): every call the gateway served
 * is counted once, and every service takes up its work again without being restarted itself.
 */
@ExtendWith(ClearOfUtcMidnight.class)
class BrokerRestartIT {

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  /** Longer than every client's request timeout and a Streams producer's max.block.ms (60 s). */
  private static final Duration OUTAGE = Duration.ofSeconds(Long.getLong("outage.seconds", 70));

  @TempDir
  Path spool;

  @Test
  void shouldCountEveryServedCallOnceAndEnforceLimitsAgainOnceTheBrokerIsBack() throws Exception {
    // as deployed: metering-stream a static member (a thread replaced in the outage hands its partitions
    // over at once), the gateway with a usage spool
    try (LocalSystem system = LocalSystem.start(Map.of("METERING_HTTP_PORT", "0", "ADMIN_HTTP_PORT", "0",
        "GATEWAY_HTTP_PORT", "0", "SMTP_PORT", "0", "ALERT_HTTP_PORT", "0", "METERING_INSTANCE_ID", "metering-0",
        "GATEWAY_USAGE_SPOOL_DIR", spool.toString()), false)) {
      AdminClient admin = system.adminClient();
      ApiKeyInfo key = admin.apiKeys().create(CreateApiKey.named("restart-capped").maxTokensPerMonth(100_000L)
          .hardLimit(true));
      admin.alerts().create("restart-capped at 90%", key.id(), 90, "owner@example.com", null);
      Gateway gateway = new Gateway(system.gatewayUrl(), key.key());
      KafkaTestSupport.await("the gateway to know the key", Duration.ofSeconds(30), () -> gateway.call() == 200);
      for (int i = 0; i < 10; i++) {
        assertEquals(200, gateway.call());
      }

      system.broker().stopBroker();
      long cut = System.nanoTime();
      // calls go on being served until the gateway can no longer confirm its view of the keys (15 s);
      // their usage waits in the gateway's producer
      KafkaTestSupport.await("the gateway to refuse calls once it cannot confirm its keys", Duration.ofSeconds(30),
          () -> gateway.call() == 503);
      long servedDuringOutage = gateway.served();
      KafkaTestSupport.holdsThroughout("calls refused while the broker is down",
          OUTAGE.minusNanos(System.nanoTime() - cut), () -> gateway.call() == 503);
      system.broker().startBroker();

      KafkaTestSupport.await("the gateway to serve again", Duration.ofSeconds(60), () -> gateway.call() == 200);
      KafkaTestSupport.await("admin-api to be ready again", Duration.ofSeconds(60),
          () -> status(system.adminUrl() + "/health/ready") == 200);
      KafkaTestSupport.await("every served call to be counted, once", Duration.ofSeconds(90),
          () -> counted(admin, key.id()) == gateway.tokens());
      System.out.printf("broker restart: %d calls served before and during the outage, %d tokens counted%n",
          servedDuringOutage, gateway.tokens());

      // the limit is enforced again: metering-stream, alert-service and the gateway all took up their work
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      int last = 200;
      while (last == 200 && System.nanoTime() < deadline) {
        last = gateway.call();
      }
      assertEquals(429, last, "suspended at its limit after the restart; served " + gateway.tokens() + " tokens");
      KafkaTestSupport.await("every served call to be counted, once", Duration.ofSeconds(60),
          () -> counted(admin, key.id()) == gateway.tokens());
      LocalDate today = LocalDate.now(ZoneOffset.UTC);
      KafkaTestSupport.await("the breach and the suspension in the audit log, once each", Duration.ofSeconds(30),
          () -> {
            List<String> story = new ArrayList<>();
            for (AuditLogEntry entry : admin.auditLogs().list(today, today)) {
              if (key.id().equals(entry.apiKeyId())) {
                story.add(entry.eventType());
              }
            }
            return story.stream().filter("key_suspended"::equals).count() == 1
                && story.stream().filter("limit_breached"::equals).count() == 1;
          });
      KafkaTestSupport.await("the threshold email, sent after the restart", Duration.ofSeconds(30),
          () -> LocalSystemIT.subjects(system).contains("[metering] " + key.id() + " reached 90% of its monthly token limit"));
      assertEquals(200, status(system.adminUrl() + "/health/ready"));
    }
  }

  /** The key's tokens this month, or -1 while metering-stream cannot answer for its partition yet. */
  private static long counted(AdminClient admin, String keyId) {
    try {
      return admin.apiKeys().currentPeriod(keyId).usage().totalTokens();
    } catch (AdminApiException.Unavailable notYet) {
      return -1;
    }
  }

  private static int status(String url) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  /** Calls through the reference gateway, adding up what it served. */
  private static final class Gateway {
    private final String url;
    private final String secret;
    private final AtomicLong served = new AtomicLong();
    private final AtomicLong tokens = new AtomicLong();

    Gateway(String url, String secret) {
      this.url = url;
      this.secret = secret;
    }

    int call() {
      try {
        HttpResponse<String> response = LocalSystemIT.call(url, secret, "claude-haiku-4-5");
        if (response.statusCode() == 200) {
          served.incrementAndGet();
          tokens.addAndGet(LocalSystemIT.tokens(response.body()));
        }
        return response.statusCode();
      } catch (java.io.IOException e) {
        return -1;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return -1;
      }
    }

    long served() {
      return served.get();
    }

    long tokens() {
      return tokens.get();
    }
  }
}
