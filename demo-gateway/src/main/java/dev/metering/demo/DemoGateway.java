package dev.metering.demo;

import dev.metering.config.Env;
import dev.metering.keys.Ids;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.gateway.Decision;
import dev.metering.gateway.KeyGuard;
import dev.metering.gateway.UsageReporter;
import dev.metering.gateway.UsageReportingException;
import io.javalin.Javalin;
import io.javalin.http.Context;
import dev.metering.http.JsonBadMessages;
import dev.metering.http.Refusals;
import io.javalin.http.HttpResponseException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A reference gateway: {@code POST /v1/messages} shaped like the Anthropic Messages API. It
 * authorises the caller's {@code x-api-key} with KeyGuard (401 unknown, revoked or rotated out;
 * 403 without messages:write; 429 while suspended, naming the limit), answers with a canned
 * completion and plausible token usage, and reports that usage with UsageReporter.
 */
public final class DemoGateway implements AutoCloseable {

  public static final String PERMISSION = "messages:write";

  private final KeyGuard guard;
  private final UsageReporter reporter;
  private final ObjectMapper json = new ObjectMapper();
  private final Javalin server;
  private final AtomicLong served = new AtomicLong();
  private final AtomicLong refused = new AtomicLong();

  private DemoGateway(KeyGuard guard, UsageReporter reporter) {
    this.guard = guard;
    this.reporter = reporter;
    this.server = Javalin.create(cfg -> {
      cfg.showJavalinBanner = false;
      JsonBadMessages.install(cfg, json, (status, message) ->
          messagesError(status < 500 ? "invalid_request_error" : "api_error", message));
      Refusals.install(cfg);
    });
    server.post("/v1/messages", this::messages);
    server.get("/health/ready", ctx -> {
      boolean ready = guard.ready();
      ctx.status(ready ? 200 : 503).result(ready ? "ok" : "API keys not loaded, or not confirmed current with Kafka");
    });
    server.get("/health/live", ctx -> ctx.result("ok"));
    // Javalin's own refusals (no such endpoint, a method the path does not take, a body over its limit) in the
    // API's error shape, not plain text
    server.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(), switch (e.getStatus()) {
      case 404 -> "not_found_error";
      case 413 -> "request_too_large";
      default -> e.getStatus() < 500 ? "invalid_request_error" : "api_error";
    }, Refusals.describe(e, ctx)));
  }

  /**
   * The reporter a gateway configured by {@code env} uses: {@code GATEWAY_ID} (else
   * {@code defaultId}), and with {@code GATEWAY_USAGE_SPOOL_DIR} set, a spool there, so the usage
   * of calls served before a crash is sent by the next start.
   */
  public static UsageReporter reporter(Env env, String bootstrapServers, String defaultId) {
    String gatewayId = env.string("GATEWAY_ID", defaultId);
    String spool = env.string("GATEWAY_USAGE_SPOOL_DIR", null);
    return spool == null ? UsageReporter.create(bootstrapServers, gatewayId)
        : UsageReporter.create(bootstrapServers, gatewayId, Path.of(spool));
  }

  public static DemoGateway start(KeyGuard guard, UsageReporter reporter, String bind, int port) {
    DemoGateway gateway = new DemoGateway(guard, reporter);
    gateway.server.start(bind, port);
    return gateway;
  }

  public int port() {
    return server.port();
  }

  public long served() {
    return served.get();
  }

  public long refused() {
    return refused.get();
  }

  private void messages(Context ctx) {
    // two different keys in one call: which one pays is up to whoever reads the headers (a proxy
    // in front, the upstream provider), so none does
    long keys = java.util.Collections.list(ctx.req().getHeaders("x-api-key")).stream().map(String::strip).distinct()
        .count();
    if (keys > 1) {
      refused.incrementAndGet();
      error(ctx, 401, "authentication_error", "the request presents " + keys + " different API keys; send one");
      return;
    }
    Decision decision = guard.authorize(ctx.header("x-api-key"), PERMISSION);
    if (decision instanceof Decision.Denied denied) {
      refused.incrementAndGet();
      switch (denied.reason()) {
        case FORBIDDEN -> error(ctx, 403, "permission_error", denied.message());
        case SUSPENDED, ORG_SUSPENDED -> error(ctx, 429, "rate_limit_error", denied.message());
        case UNAVAILABLE -> error(ctx, 503, "overloaded_error", denied.message());
        default -> error(ctx, 401, "authentication_error", denied.message());
      }
      return;
    }
    var key = ((Decision.Allowed) decision).key();
    JsonNode request;
    try {
      request = json.readTree(ctx.body());
    } catch (IOException e) {
      error(ctx, 400, "invalid_request_error", "the request body is not valid JSON");
      return;
    }
    String model = request.path("model").asText("");
    JsonNode messages = request.path("messages");
    if (model.isBlank() || !messages.isArray() || messages.isEmpty()) {
      error(ctx, 400, "invalid_request_error", "model and a non-empty messages array are required");
      return;
    }
    int maxTokens = Math.max(1, request.path("max_tokens").asInt(1024));
    long inputTokens = 8 + messages.toString().length() / 4;
    long outputTokens = Math.min(maxTokens, 20 + ThreadLocalRandom.current().nextInt(300));
    String requestId = Ids.random(Ids.REQUEST);
    UsageReporter.Call call;
    try {
      call = new UsageReporter.Call(key.getOrgId(), key.getId(), model, inputTokens, outputTokens, 0, 0, requestId);
    } catch (IllegalArgumentException e) {
      // a call metering would refuse is not served: it would never count against the key's limits
      error(ctx, 400, "invalid_request_error", e.getMessage());
      return;
    }
    try {
      reporter.record(call);
    } catch (UsageReportingException e) {
      // metering is the point of this gateway: a call it cannot meter is not served
      error(ctx, 503, "overloaded_error", "usage metering is unavailable; retry shortly");
      return;
    }
    served.incrementAndGet();
    Map<String, Object> usage = new LinkedHashMap<>();
    usage.put("input_tokens", inputTokens);
    usage.put("output_tokens", outputTokens);
    usage.put("cache_creation_input_tokens", 0);
    usage.put("cache_read_input_tokens", 0);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("id", "msg_" + requestId.substring(4));
    body.put("type", "message");
    body.put("role", "assistant");
    body.put("model", model);
    body.put("content", List.of(Map.of("type", "text", "text", "This is a canned answer from the demo gateway.")));
    body.put("stop_reason", "end_turn");
    body.put("usage", usage);
    ctx.header("request-id", requestId).json(body);
  }

  private static void error(Context ctx, int status, String type, String message) {
    ctx.status(status).json(messagesError(type, message));
  }

  /** An error in the Messages API's shape. */
  private static Map<String, Object> messagesError(String type, String message) {
    return Map.of("type", "error", "error", Map.of("type", type, "message", message));
  }

  @Override
  public void close() {
    server.stop();
  }
}
