package dev.metering.alerts.delivery;

import dev.metering.records.Notification;
import dev.metering.webhooks.WebhookSigning;
import dev.metering.webhooks.WebhookTargets;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Webhooks: an HTTP POST of the notification's JSON body, signed in the Standard Webhooks form
 * with the secret of the rule it is for ({@code webhook-id} is the notification id, also sent as
 * {@code Idempotency-Key}), sent asynchronously so a slow or dead endpoint holds no thread. The
 * target is checked against {@link WebhookTargets} on every attempt, off the caller's thread
 * (name resolution may block): a refused target fails at once and is not retried. Connection
 * errors, timeouts, 408, 429 and 5xx are retried; other 4xx fail.
 */
public final class WebhookChannel implements Channel {

  public static final String IDEMPOTENCY_HEADER = "Idempotency-Key";
  private static final long MAX_RETRY_AFTER_SECONDS = 86_400;

  private final HttpClient http;
  private final WebhookSigning signing;
  private final WebhookTargets targets;
  private final Duration timeout;
  private final Clock clock;
  private final ExecutorService resolver = Executors.newFixedThreadPool(2, runnable -> {
    Thread thread = new Thread(runnable, "webhook-target-check");
    thread.setDaemon(true);
    return thread;
  });

  public WebhookChannel(WebhookSigning signing, WebhookTargets targets, Duration timeout, Clock clock) {
    this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER).build();
    this.signing = signing;
    this.targets = targets;
    this.timeout = timeout;
    this.clock = clock;
  }

  @Override
  public CompletableFuture<Attempt> send(Notification notification) {
    String signingKey = notification.getSigningKey();
    int separator = signingKey == null ? -1 : signingKey.lastIndexOf(':');
    if (separator < 0) {
      return CompletableFuture.completedFuture(new Attempt.Failed("no signing key: written before per-rule secrets"));
    }
    int version;
    try {
      version = Integer.parseInt(signingKey.substring(separator + 1));
    } catch (NumberFormatException e) {
      return CompletableFuture.completedFuture(new Attempt.Failed("malformed signing key"));
    }
    String secret = signing.secretFor(signingKey.substring(0, separator), version);
    return CompletableFuture.supplyAsync(() -> targets.problem(notification.getTarget(), true), resolver)
        .thenCompose(problem -> problem.isPresent()
            ? CompletableFuture.completedFuture(new Attempt.Failed("refused: " + problem.get()))
            : post(notification, secret));
  }

  private CompletableFuture<Attempt> post(Notification notification, String secret) {
    long timestamp = clock.instant().getEpochSecond();
    HttpRequest request = HttpRequest.newBuilder(URI.create(notification.getTarget()))
        .timeout(timeout)
        .header("Content-Type", "application/json")
        .header("User-Agent", "metering-alert-service")
        .header(IDEMPOTENCY_HEADER, notification.getId())
        .header(WebhookSigning.ID_HEADER, notification.getId())
        .header(WebhookSigning.TIMESTAMP_HEADER, Long.toString(timestamp))
        .header(WebhookSigning.SIGNATURE_HEADER, WebhookSigning.signature(secret, notification.getId(), timestamp,
            notification.getBody()))
        .POST(HttpRequest.BodyPublishers.ofString(notification.getBody(), StandardCharsets.UTF_8))
        .build();
    return http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
        .thenApply(WebhookChannel::classify)
        .exceptionally(e -> {
          Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
          return new Attempt.Retry((cause instanceof HttpTimeoutException ? "timed out: " : "cannot reach: ")
              + cause.getClass().getSimpleName(), Optional.empty());
        });
  }

  @Override
  public void close() {
    resolver.shutdownNow();
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

  /**
   * A Retry-After in seconds, at most a day: the backoff caps it anyway, and a larger one (up to
   * Long.MAX_VALUE seconds, from a hostile or broken endpoint) would overflow in milliseconds.
   */
  private static Optional<Duration> seconds(String retryAfter) {
    try {
      return Optional.of(Duration.ofSeconds(Math.min(MAX_RETRY_AFTER_SECONDS,
          Math.max(0, Long.parseLong(retryAfter.strip())))));
    } catch (NumberFormatException dateForm) {
      return Optional.empty();
    }
  }
}
