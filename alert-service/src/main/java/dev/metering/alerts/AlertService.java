package dev.metering.alerts;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.metering.alerts.decisions.RuleIndex;
import dev.metering.alerts.delivery.Channel;
import dev.metering.alerts.delivery.NotificationDispatcher;
import dev.metering.alerts.processing.AlertProcessor;
import dev.metering.api.ErrorResponse;
import dev.metering.json.Json;
import dev.metering.kafka.TopicView;
import dev.metering.metrics.ServiceMetrics;
import dev.metering.records.AlertRule;
import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.NotificationChannel;
import dev.metering.schemas.Topics;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * alert-service: the transactional event processor, the notification dispatcher, and the views of
 * alert-rules and api-keys they read, each on its own thread. A supervisor replaces a dispatcher
 * whose thread died (its undelivered notifications are read again from the committed offsets),
 * and {@code /health/ready} answers 503 while any part is down, so nothing fails silently.
 */
public final class AlertService implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(AlertService.class);
  private static final Set<String> OPS_PATHS = Set.of("/health/live", "/health/ready", "/metrics");

  private final AlertServiceConfig config;
  private final Clock clock;
  private final Map<NotificationChannel, Channel> channels;
  private final TopicView<String, AlertRule> rules;
  private final TopicView<String, ApiKey> keys;
  private final AlertProcessor processor;
  private final ScheduledExecutorService supervisor = Executors.newSingleThreadScheduledExecutor(runnable -> {
    Thread thread = new Thread(runnable, "alert-service-supervisor");
    thread.setDaemon(true);
    return thread;
  });
  private final AtomicLong dispatcherRestarts = new AtomicLong();
  private final PrometheusMeterRegistry metrics;
  private final HttpServer http;
  private volatile NotificationDispatcher dispatcher;
  private volatile Thread dispatcherThread;
  private volatile boolean closing;

  private AlertService(AlertServiceConfig config, Clock clock, Map<NotificationChannel, Channel> channels,
      TopicView<String, AlertRule> rules, TopicView<String, ApiKey> keys, AlertProcessor processor,
      PrometheusMeterRegistry metrics) {
    this.metrics = metrics;
    this.config = config;
    this.clock = clock;
    this.channels = Map.copyOf(channels);
    this.rules = rules;
    this.keys = keys;
    this.processor = processor;
    try {
      this.http = HttpServer.create(new InetSocketAddress(config.httpBind(), config.httpPort()), 0);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on " + config.httpBind() + ":" + config.httpPort(), e);
    }
    http.createContext("/", this::serve);
    Gauge.builder("alert.service.ready", this, service -> service.ready() ? 1 : 0)
        .description("1 while every part runs (both views, the processor, the dispatcher)").register(metrics);
    FunctionCounter.builder("alert.dispatcher.restarts", dispatcherRestarts, AtomicLong::get)
        .description("Notification dispatchers replaced after their thread died").register(metrics);
    Gauge.builder("alert.deliveries.outstanding", this, service -> service.dispatcher == null ? 0
            : service.dispatcher.outstanding())
        .description("Notifications read and not yet finished: under way or waiting for their org's room")
        .register(metrics);
  }

  /**
   * The operations endpoints, each at its exact path and for GET only (a context of the JDK's
   * server would also answer every path it is a prefix of); anything else is refused in the JSON
   * error shape of the HTTP APIs.
   */
  private void serve(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getRawPath();
    boolean known = OPS_PATHS.contains(path);
    if (!known || !"GET".equals(exchange.getRequestMethod())) {
      int status = known ? 405 : 404;
      String message = known ? "only GET is served at " + path
          : "no such endpoint: " + exchange.getRequestMethod() + " " + path;
      if (known) {
        exchange.getResponseHeaders().set("Allow", "GET");
      }
      respond(exchange, status, Json.mapper().writeValueAsString(
          ErrorResponse.of(ErrorResponse.typeOf(status), message, null)), "application/json");
      return;
    }
    switch (path) {
      case "/health/live" -> respond(exchange, 200, "{\"status\":\"ok\"}", "application/json");
      case "/health/ready" -> {
        boolean ready = ready();
        respond(exchange, ready ? 200 : 503, "{\"status\":\"" + (ready ? "ok" : "unavailable") + "\"}",
            "application/json");
      }
      default -> respond(exchange, 200, metrics.scrape(), "text/plain; version=0.0.4; charset=utf-8");
    }
  }

  public static AlertService start(AlertServiceConfig config, Clock clock) throws InterruptedException {
    return start(config, clock, NotificationDispatcher.standardChannels(config, clock));
  }

  /** Starts with the given channels; waits until the alert rules are loaded before processing events. */
  public static AlertService start(AlertServiceConfig config, Clock clock, Map<NotificationChannel, Channel> channels)
      throws InterruptedException {
    RuleIndex ruleIndex = new RuleIndex();
    TopicView<String, AlertRule> rules = TopicView.start(config.kafka().bootstrapServers(), Topics.ALERT_RULES.name(),
        Topics.ALERT_RULES.keySerde().deserializer(), Topics.ALERT_RULES.valueSerde().deserializer(), ruleIndex::update);
    rules.awaitCaughtUp(Duration.ofSeconds(60));
    TopicView<String, ApiKey> keys = TopicView.start(config.kafka().bootstrapServers(), Topics.API_KEYS.name(),
        Topics.API_KEYS.keySerde().deserializer(), Topics.API_KEYS.valueSerde().deserializer(), null);
    keys.awaitCaughtUp(Duration.ofSeconds(60));
    PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ServiceMetrics.attach(metrics);
    AlertProcessor processor = new AlertProcessor(config, clock, ruleIndex, apiKeyId -> {
      ApiKey key = keys.get(apiKeyId);
      return key != null && key.getStatus() == ApiKeyStatus.REVOKED;
    }, metrics);
    AlertService service = new AlertService(config, clock, channels, rules, keys, processor, metrics);
    new Thread(processor, "alert-processor").start();
    service.startDispatcher();
    service.supervisor.scheduleWithFixedDelay(service::supervise, 1, 1, TimeUnit.SECONDS);
    service.http.start();
    log.info("alert-service health and metrics on {}:{}", config.httpBind(), service.httpPort());
    return service;
  }

  public AlertProcessor processor() {
    return processor;
  }

  /** The port of /health and /metrics. */
  public int httpPort() {
    return http.getAddress().getPort();
  }

  /** Every part running: both views reading, the event processor and the dispatcher alive. */
  public boolean ready() {
    Thread delivering = dispatcherThread;
    return !closing && rules.healthy() && keys.healthy() && processor.failure() == null
        && delivering != null && delivering.isAlive();
  }

  /** How often a dead dispatcher was replaced. */
  public long dispatcherRestarts() {
    return dispatcherRestarts.get();
  }

  /** Blocks until the event processor stopped; returns why it stopped on its own, or null. */
  public Throwable awaitStopped() throws InterruptedException {
    processor.awaitStopped();
    return processor.failure();
  }

  private synchronized void startDispatcher() {
    dispatcher = new NotificationDispatcher(config, channels, clock, metrics);
    dispatcherThread = new Thread(dispatcher, "notification-dispatcher");
    dispatcherThread.start();
  }

  private synchronized void supervise() {
    try {
      if (!closing && !dispatcherThread.isAlive()) {
        Throwable why = dispatcher.failure();
        log.error("notification dispatcher died ({}); starting a new one: undelivered notifications are read again",
            why == null ? "no error recorded" : why.toString());
        dispatcherRestarts.incrementAndGet();
        startDispatcher();
      }
    } catch (RuntimeException e) {
      log.error("cannot restart the notification dispatcher; trying again in a second", e);
    }
  }


  private static void respond(HttpExchange exchange, int status, String body, String contentType) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", contentType);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    closing = true;
    supervisor.shutdownNow();
    http.stop(0);
    processor.close();
    NotificationDispatcher current;
    synchronized (this) {
      current = dispatcher;
    }
    current.close();
    rules.close();
    keys.close();
    ServiceMetrics.detach(metrics);
    metrics.close();
  }
}
