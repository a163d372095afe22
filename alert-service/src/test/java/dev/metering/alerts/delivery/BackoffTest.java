package dev.metering.alerts.delivery;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class BackoffTest {

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
