package dev.metering.alerts.delivery;

import dev.metering.records.Notification;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Webhooks: an HTTP POST of the notification's JSON body with an {@code Idempotency-Key} (the
 * notification id) and a signature header, sent asynchronously so a slow or dead endpoint holds
 * no thread. Connection errors, timeouts, 408, 429 and 5xx are retried; other 4xx fail.
 */
public final class WebhookChannel implements Channel {

  public static final String SIGNATURE_HEADER = "X-Metering-Signature";
  public static final String IDEMPOTENCY_HEADER = "Idempotency-Key";

  private final HttpClient http;
  private final WebhookSignature signature;
  private final Duration timeout;
  private final Clock clock;

  public WebhookChannel(WebhookSignature signature, Duration timeout, Clock clock) {
    this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    this.signature = signature;
    this.timeout = timeout;
    this.clock = clock;
  }

  @Override
  public CompletableFuture<Attempt> send(Notification notification) {
    URI uri;
    try {
      uri = URI.create(notification.getTarget());
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(new Attempt.Failed("invalid webhook URL"));
    }
    if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme())) {
      return CompletableFuture.completedFuture(new Attempt.Failed("webhook URL must be http or https"));
    }
    long timestamp = clock.instant().getEpochSecond();
    byte[] body = notification.getBody().getBytes(StandardCharsets.UTF_8);
    HttpRequest request = HttpRequest.newBuilder(uri)
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .header("User-Agent", "metering-alert-service")
        .header(IDEMPOTENCY_HEADER, notification.getId())
        .header(SIGNATURE_HEADER, signature.header(timestamp, body))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
        .thenApply(WebhookChannel::classify)
        .exceptionally(e -> {
          Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
          return new Attempt.Retry((cause instanceof HttpTimeoutException ? "timed out: " : "cannot reach: ")
              + cause.getClass().getSimpleName(), Optional.empty());
        });
  }

  private static Attempt classify(HttpResponse<Void> response) {
    int status = response.statusCode();
    if (status >= 200 && status < 300) {
      return new Attempt.Delivered("HTTP " + status);
    }
    if (status == 429 || status == 408 || status >= 500) {
      return new Attempt.Retry("HTTP " + status, response.headers().firstValue("Retry-After").flatMap(WebhookChannel::seconds));
    }
    return new Attempt.Failed("HTTP " + status);
  }

  private static Optional<Duration> seconds(String retryAfter) {
    try {
      return Optional.of(Duration.ofSeconds(Math.max(0, Long.parseLong(retryAfter.strip()))));
    } catch (NumberFormatException dateForm) {
      return Optional.empty();
    }
  }
}
