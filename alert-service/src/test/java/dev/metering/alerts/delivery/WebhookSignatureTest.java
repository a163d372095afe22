package dev.metering.alerts.delivery;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class WebhookSignatureTest {

  private final WebhookSignature signature = new WebhookSignature("s3cret");
  private final byte[] body = "{\"id\":\"ntf_1\"}".getBytes(StandardCharsets.UTF_8);

  @Test
  void shouldVerifyItsOwnSignatureAndNothingElse() {
    String header = signature.header(1_764_000_000L, body);

    assertTrue(header.startsWith("t=1764000000,v1="));
    assertTrue(signature.verifies(header, body));
    assertFalse(new WebhookSignature("other").verifies(header, body), "another secret");
    assertFalse(signature.verifies(header, "{\"id\":\"ntf_2\"}".getBytes(StandardCharsets.UTF_8)), "another body");
    assertFalse(signature.verifies(header.replace("t=1764000000", "t=1764000001"), body), "another timestamp");
    assertFalse(signature.verifies("t=1,v1=zz", body));
    assertFalse(signature.verifies(null, body));
  }

  @Test
  void shouldBackOffExponentiallyWithJitterUpToTheMaximumAndHonourRetryAfter() {
    Backoff backoff = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1));

    for (int i = 0; i < 50; i++) {
      long second = backoff.before(2, null).toMillis();
      long fourth = backoff.before(4, null).toMillis();
      long tenth = backoff.before(10, null).toMillis();
      assertTrue(second >= 50 && second <= 100, "second attempt " + second);
      assertTrue(fourth >= 200 && fourth <= 400, "fourth attempt " + fourth);
      assertTrue(tenth >= 500 && tenth <= 1000, "capped " + tenth);
      assertTrue(backoff.before(2, Duration.ofMillis(700)).toMillis() >= 700, "Retry-After is honoured");
    }
  }
}
