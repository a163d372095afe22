package dev.metering.admin.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.admin.auth.Credentials;
import dev.metering.admin.http.ApiError;
import dev.metering.admin.http.Body;
import dev.metering.admin.keys.KeyStore;
import dev.metering.config.Durations;
import dev.metering.gateway.UsageReporter;
import dev.metering.gateway.UsageReportingException;
import dev.metering.keys.Secrets;
import dev.metering.records.ApiKey;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.UsageLimits;
import io.javalin.Javalin;
import dev.metering.api.ErrorResponse.ErrorDetail;
import dev.metering.api.admin.UsageBatch;
import dev.metering.api.admin.UsageBatchResult;
import dev.metering.api.admin.UsageBatchResult.EventResult;
import dev.metering.api.openapi.OpenApi;
import io.javalin.http.Context;
import dev.metering.admin.AdminConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code POST /v1/usage/events}: usage from gateways not written in Java, a JSON batch of up to
 * 1000 events authenticated with a gateway token bound to its organisations. Each event is
 * checked on its own and gets its own result; accepted ones go to usage-events through the same
 * idempotent producer a Java gateway uses, and the answer waits until the brokers acknowledged
 * them: a 202 means the usage is durable. When they do not within the bounded wait the answer is
 * 503 with Retry-After, and the retry is counted once because every event carries its
 * {@code event_id}. The org of each event is the org of its key; its gateway is the token's.
 */
public final class IngestRoutes {

  public static final String PATH = "/v1/usage/events";
  private static final int MAX_BATCH = 1000;
  private static final long MAX_TOKENS = UsageLimits.MAX_TOKENS_PER_KIND;

  private final List<GatewayToken> tokens;
  private final KeyStore keys;
  private final UsageReporter reporter;
  private final ObjectMapper json;
  private final Clock clock;
  private final Duration ackTimeout;
  private final Duration lateGrace;
  private final Duration futureTolerance;

  public IngestRoutes(AdminConfig config, KeyStore keys, UsageReporter reporter, ObjectMapper json, Clock clock) {
    this.tokens = config.gatewayTokens();
    this.keys = keys;
    this.reporter = reporter;
    this.json = json;
    this.clock = clock;
    this.ackTimeout = config.ingestAckTimeout();
    this.lateGrace = config.lateGrace();
    this.futureTolerance = config.futureTolerance();
  }

  private static final String ACCEPTED = "accepted";
  private static final String REJECTED = "rejected";

  /** The endpoint as OpenAPI describes it. */
  public static OpenApi.Operation operation() {
    return new OpenApi.Operation("POST", PATH, "reportUsage", "Usage from gateways: a batch of up to " + MAX_BATCH
        + " events (each with its event_id), each checked and answered on its own; answered once Kafka has the"
        + " accepted ones (503 with Retry-After when it did not acknowledge every one in time: retry the batch as it"
        + " was)", "usage_events", List.of(), UsageBatch.class, List.of(202, 207, 503), UsageBatchResult.class,
        List.of(400, 401, 413), "gatewayToken");
  }

  public void register(Javalin server) {
    server.post(PATH, this::ingest);
  }

  private void ingest(Context ctx) {
    GatewayToken gateway = authenticate(Credentials.headers(ctx, "Authorization"));
    JsonNode events = Body.readTree(json, ctx.body()).get("events");
    if (events == null || !events.isArray()) {
      throw ApiError.invalid("events", "events must be an array of usage events");
    }
    if (events.size() > MAX_BATCH) {
      throw ApiError.invalid("events", "at most " + MAX_BATCH + " events per batch, got " + events.size());
    }
    EventResult[] results = new EventResult[events.size()];
    Map<Integer, CompletableFuture<String>> pending = new LinkedHashMap<>();
    Map<List<String>, Integer> firstOfId = new HashMap<>();
    for (int i = 0; i < events.size(); i++) {
      JsonNode givenId = events.get(i).get("event_id");
      // echoed so a caller can match a refusal to its event
      String eventId = givenId != null && givenId.isTextual() && givenId.asText().length() <= UsageLimits.MAX_FIELD_LENGTH
          ? givenId.asText() : null;
      try {
        UsageEvent event = toEvent(events.get(i), gateway);
        Integer first = firstOfId.putIfAbsent(List.of(event.getApiKeyId(), event.getEventId()), i);
        if (first != null) {
          // metering-stream counts a key's event_id once: a second call under it would be lost
          throw ApiError.invalid("event_id", "event_id " + event.getEventId() + " of api key " + event.getApiKeyId()
              + " repeats events[" + first + "] of this batch; each call needs its own event_id");
        }
        pending.put(i, reporter.deliver(event));
        results[i] = new EventResult(i, eventId, null, null);
      } catch (ApiError e) {
        results[i] = new EventResult(i, eventId, REJECTED, new ErrorDetail(e.type(), e.getMessage(), e.field()));
      } catch (UsageReportingException e) {
        results[i] = unavailable(i, eventId);
      }
    }
    long deadline = System.nanoTime() + ackTimeout.toNanos();
    int accepted = 0;
    for (Map.Entry<Integer, CompletableFuture<String>> entry : pending.entrySet()) {
      EventResult sent = results[entry.getKey()];
      try {
        entry.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        results[entry.getKey()] = new EventResult(sent.index(), sent.eventId(), ACCEPTED, null);
        accepted++;
      } catch (ExecutionException | TimeoutException e) {
        results[entry.getKey()] = unavailable(sent.index(), sent.eventId());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        results[entry.getKey()] = unavailable(sent.index(), sent.eventId());
      }
    }
    List<EventResult> all = List.of(results);
    int rejected = (int) all.stream().filter(r -> REJECTED.equals(r.status())).count();
    if (accepted + rejected < all.size()) {
      // Some events may still reach Kafka after this answer; the retry carries the same
      // event_ids, so metering-stream counts each once.
      ctx.header("Retry-After", "1");
      ctx.status(503).json(new UsageBatchResult(accepted, events.size() - accepted, all, new ErrorDetail(
          "unavailable_error", "Kafka did not acknowledge every event within " + ackTimeout
          + "; retry the batch with the same event_ids", null)));
      return;
    }
    ctx.status(accepted == events.size() ? 202 : 207).json(new UsageBatchResult(accepted, rejected, all, null));
  }

  private static EventResult unavailable(int index, String eventId) {
    return new EventResult(index, eventId, "unavailable", new ErrorDetail("unavailable_error",
        "not acknowledged by Kafka in time; retry this event", null));
  }

  private GatewayToken authenticate(List<String> authorization) {
    String how = "Authorization: Bearer <gateway token>";
    String secret = Credentials.single(authorization, List.of(), how);
    if (secret == null) {
      throw ApiError.unauthorized("a gateway token is required (" + how + ")");
    }
    String hash = Secrets.hash(secret);
    GatewayToken match = null;
    for (GatewayToken token : tokens) {
      if (Secrets.sameHash(token.tokenHash(), hash)) {
        match = token;
      }
    }
    if (match == null) {
      throw ApiError.unauthorized("invalid gateway token");
    }
    return match;
  }

  private UsageEvent toEvent(JsonNode node, GatewayToken gateway) {
    if (node == null || !node.isObject()) {
      throw ApiError.invalid(null, "each event must be a JSON object");
    }
    String eventId = text(node, "event_id", true);
    String keyId = text(node, "api_key_id", true);
    // a key of an organisation this gateway does not report for is answered like an unknown key
    ApiKey key = keys.get(keyId).filter(k -> gateway.mayReportFor(k.getOrgId()))
        .orElseThrow(() -> ApiError.invalid("api_key_id", "unknown api_key_id " + keyId));
    String claimedGateway = text(node, "gateway_id", false);
    if (claimedGateway != null && !claimedGateway.equals(gateway.gatewayId())) {
      throw ApiError.invalid("gateway_id", "gateway_id is the authenticated gateway's, " + gateway.gatewayId()
          + "; leave it out");
    }
    long now = clock.millis();
    long timestamp = node.has("timestamp") ? count(node, "timestamp", Long.MAX_VALUE) : now;
    if (timestamp < now - lateGrace.toMillis()) {
      throw ApiError.invalid("timestamp", "timestamp " + timestamp + " is more than "
          + Durations.inWords(lateGrace) + " old; usage that late is no longer counted");
    }
    if (timestamp > now + futureTolerance.toMillis()) {
      throw ApiError.invalid("timestamp", "timestamp " + timestamp + " is more than "
          + Durations.inWords(futureTolerance) + " ahead of the clock");
    }
    return UsageEvent.newBuilder()
        .setEventId(eventId)
        .setOrgId(key.getOrgId())
        .setApiKeyId(keyId)
        .setModel(text(node, "model", true))
        .setInputTokens(count(node, "input_tokens", MAX_TOKENS))
        .setOutputTokens(count(node, "output_tokens", MAX_TOKENS))
        .setCacheCreationInputTokens(node.has("cache_creation_input_tokens")
            ? count(node, "cache_creation_input_tokens", MAX_TOKENS) : 0)
        .setCacheReadInputTokens(node.has("cache_read_input_tokens") ? count(node, "cache_read_input_tokens", MAX_TOKENS) : 0)
        .setTimestamp(timestamp)
        .setGatewayId(gateway.gatewayId())
        .setRequestId(text(node, "request_id", false))
        .build();
  }

  private static String text(JsonNode node, String field, boolean required) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      if (required) {
        throw ApiError.invalid(field, field + " is required");
      }
      return null;
    }
    // a value that is not a string is refused with the same words as an empty one
    String problem = UsageLimits.stringProblem(field, value.isTextual() ? value.asText() : "");
    if (problem != null) {
      throw ApiError.invalid(field, problem);
    }
    return value.asText();
  }

  private static long count(JsonNode node, String field, long max) {
    JsonNode value = node.get(field);
    if (value == null || !value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < 0 || value.asLong() > max) {
      throw ApiError.invalid(field, field + " must be a whole number from 0 to " + max);
    }
    return value.asLong();
  }
}
