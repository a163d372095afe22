package dev.metering.alerts.delivery;

import dev.metering.records.Notification;
import dev.metering.webhooks.WebhookSigning;
import dev.metering.webhooks.WebhookTargets;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.api.Request;
import org.eclipse.jetty.client.api.Response;
import org.eclipse.jetty.client.http.HttpClientTransportOverHTTP;
import org.eclipse.jetty.client.util.StringRequestContent;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.HttpCookieStore;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Webhooks: an HTTP POST of the notification's JSON body, signed in the Standard Webhooks form
 * with the secret of the rule it is for ({@code webhook-id} is the notification id, also sent as
 * {@code Idempotency-Key}), sent asynchronously so a slow or dead endpoint holds no thread. Every
 * connection is made to the addresses {@link WebhookTargets#permittedAddresses} returned for the
 * target's host, looked up once, off the HTTP client's threads (name resolution may block): no
 * second lookup can lead it elsewhere, and TLS still verifies the certificate against the host's
 * name. A refused target fails at once and is not retried. Connection errors, timeouts, 408, 429
 * and 5xx are retried; other 4xx fail.
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
    this(signing, targets, timeout, clock, null);
  }

  /** With {@code tls} the certificates to trust (null: the JVM's). */
  WebhookChannel(WebhookSigning signing, WebhookTargets targets, Duration timeout, Clock clock, SSLContext tls) {
    this.signing = signing;
    this.targets = targets;
    this.timeout = timeout;
    this.clock = clock;
    SslContextFactory.Client tlsFactory = new SslContextFactory.Client(); // verifies the host name (HTTPS)
    if (tls != null) {
      tlsFactory.setSslContext(tls);
    }
    ClientConnector connector = new ClientConnector();
    connector.setSslContextFactory(tlsFactory);
    QueuedThreadPool threads = new QueuedThreadPool();
    threads.setName("webhook-http");
    threads.setDaemon(true);
    this.http = new HttpClient(new HttpClientTransportOverHTTP(connector));
    http.setExecutor(threads);
    http.setSocketAddressResolver(this::resolve);
    http.setFollowRedirects(false);
    http.setConnectTimeout(timeout.toMillis());
    http.setUserAgentField(new HttpField(HttpHeader.USER_AGENT, "metering-alert-service"));
    // no state from one endpoint's answers travels on: no cookies (a host shared by two tenants'
    // rules would hand one tenant's to the other), no decoding of bodies that are discarded anyway,
    // and no per-host bookkeeping kept once a host's connections are idle
    http.setCookieStore(new HttpCookieStore.Empty());
    http.getContentDecoderFactories().clear();
    http.setRemoveIdleDestinations(true);
    try {
      http.start();
    } catch (Exception e) {
      throw new IllegalStateException("cannot start the webhook HTTP client: " + e.getMessage(), e);
    }
  }

  /**
   * The HTTP client's name resolution: only the permitted addresses, from one lookup. Each carries
   * the host's name, which TLS takes from the address to check the certificate against (and to
   * send as SNI); an address without one would be checked as a bare IP.
   */
  private void resolve(String host, int port, Promise<List<InetSocketAddress>> promise) {
    String name = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
    try {
      resolver.execute(() -> {
        try {
          List<InetSocketAddress> addresses = new ArrayList<>();
          for (InetAddress address : targets.permittedAddresses(host)) {
            addresses.add(new InetSocketAddress(InetAddress.getByAddress(name, address.getAddress()), port));
          }
          promise.succeeded(addresses);
        } catch (IOException | RuntimeException e) {
          promise.failed(e);
        }
      });
    } catch (RejectedExecutionException closing) {
      promise.failed(closing);
    }
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
    Optional<String> problem = targets.urlProblem(notification.getTarget());
    if (problem.isPresent()) {
      return CompletableFuture.completedFuture(new Attempt.Failed("refused: " + problem.get()));
    }
    return post(notification, signing.secretFor(signingKey.substring(0, separator), version));
  }

  private CompletableFuture<Attempt> post(Notification notification, String secret) {
    long timestamp = clock.instant().getEpochSecond();
    Request request;
    try {
      request = http.newRequest(URI.create(notification.getTarget()));
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(new Attempt.Failed("refused: it cannot be requested (" + e.getMessage()
          + ")"));
    }
    CompletableFuture<Attempt> attempt = new CompletableFuture<>();
    request
        .method(HttpMethod.POST)
        .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .headers(headers -> headers
            .put(IDEMPOTENCY_HEADER, notification.getId())
            .put(WebhookSigning.ID_HEADER, notification.getId())
            .put(WebhookSigning.TIMESTAMP_HEADER, Long.toString(timestamp))
            .put(WebhookSigning.SIGNATURE_HEADER, WebhookSigning.signature(secret, notification.getId(), timestamp,
                notification.getBody())))
        .body(new StringRequestContent("application/json", notification.getBody(), StandardCharsets.UTF_8))
        .send(result -> attempt.complete(result.isFailed() ? failed(result.getFailure())
            : classify(result.getResponse())));
    return attempt;
  }

  @Override
  public void close() {
    try {
      http.stop();
    } catch (Exception e) {
      // closing: the undelivered notifications are read again from the committed offsets
    }
    resolver.shutdownNow();
  }

  /** A refused target fails for good; anything else on the way is tried again. */
  private static Attempt failed(Throwable failure) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof WebhookTargets.Refused refused) {
        return new Attempt.Failed("refused: " + refused.getMessage());
      }
      if (cause instanceof UnknownHostException) {
        return new Attempt.Retry("cannot reach: its host does not resolve", Optional.empty());
      }
      if (cause instanceof TimeoutException) {
        return new Attempt.Retry("timed out: no answer within the delivery timeout", Optional.empty());
      }
      if (cause instanceof SocketTimeoutException) {
        return new Attempt.Retry("timed out: no connection within the delivery timeout", Optional.empty());
      }
      if (cause instanceof ConnectException) {
        return new Attempt.Retry("cannot reach: the connection was refused", Optional.empty());
      }
      if (cause instanceof SSLException) {
        // about the endpoint's own certificate, e.g. "No subject alternative DNS name matching ... found"
        return new Attempt.Retry("TLS handshake failed: " + cause.getMessage(), Optional.empty());
      }
    }
    return new Attempt.Retry("cannot reach: " + failure.getClass().getSimpleName(), Optional.empty());
  }

  private static Attempt classify(Response response) {
    int status = response.getStatus();
    if (status >= 200 && status < 300) {
      return new Attempt.Delivered("HTTP " + status);
    }
    if (status == 429 || status == 408 || status >= 500) {
      return new Attempt.Retry("HTTP " + status, Optional.ofNullable(response.getHeaders().get(HttpHeader.RETRY_AFTER))
          .flatMap(WebhookChannel::seconds));
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
