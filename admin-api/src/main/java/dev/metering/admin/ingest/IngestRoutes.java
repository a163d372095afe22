package dev.metering.admin.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.admin.http.ApiError;
import dev.metering.admin.keys.KeyStore;
import dev.metering.gateway.EventIds;
import dev.metering.gateway.UsageReporter;
import dev.metering.gateway.UsageReportingException;
import dev.metering.keys.Secrets;
import dev.metering.records.ApiKey;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.UsageLimits;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code POST /v1/usage/events}: usage from gateways not written in Java, a JSON batch of up to
 * 1000 events authenticated with a gateway token. Each event is checked on its own and gets its
 * own result; accepted ones go to usage-events through the same idempotent producer a Java
 * gateway uses. The org of each event is the org of its key.
 */
public final class IngestRoutes {

  public static final String PATH = "/v1/usage/events";
  private static final int MAX_BATCH = 1000;
  private static final long MAX_TOKENS = UsageLimits.MAX_TOKENS_PER_KIND;

  private final List<String> tokenHashes;
  private final KeyStore keys;
  private final UsageReporter reporter;
  private final ObjectMapper json;
  private final Clock clock;

  public IngestRoutes(List<String> gatewayTokens, KeyStore keys, UsageReporter reporter, ObjectMapper json, Clock clock) {
    this.tokenHashes = gatewayTokens.stream().map(Secrets::hash).toList();
    this.keys = keys;
    this.reporter = reporter;
    this.json = json;
    this.clock = clock;
  }

  public void register(Javalin server) {
    server.post(PATH, this::ingest);
  }

  private void ingest(Context ctx) {
    authenticate(ctx.header("Authorization"));
    JsonNode body;
    try {
      body = json.readTree(ctx.body());
    } catch (IOException e) {
      throw ApiError.invalid(null, "the request body is not valid JSON");
    }
    JsonNode events = body == null ? null : body.get("events");
    if (events == null || !events.isArray()) {
      throw ApiError.invalid("events", "events must be an array of usage events");
    }
    if (events.size() > MAX_BATCH) {
      throw ApiError.invalid("events", "at most " + MAX_BATCH + " events per batch, got " + events.size());
    }
    List<Map<String, Object>> results = new ArrayList<>();
    int accepted = 0;
    for (int i = 0; i < events.size(); i++) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("index", i);
      try {
        UsageEvent event = toEvent(events.get(i));
        reporter.send(event);
        result.put("status", "accepted");
        result.put("event_id", event.getEventId());
        accepted++;
      } catch (ApiError e) {
        result.put("status", "rejected");
        result.put("error", Map.of("type", e.type(), "message", e.getMessage(), "field", e.field()));
      } catch (UsageReportingException e) {
        result.put("status", "rejected");
        result.put("error", Map.of("type", "unavailable_error", "message", "usage could not be queued; retry this event"));
      }
      results.add(result);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("accepted", accepted);
    out.put("rejected", events.size() - accepted);
    out.put("results", results);
    ctx.status(accepted == events.size() ? 202 : 207).json(out);
  }

  private void authenticate(String authorization) {
    if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw ApiError.unauthorized("a gateway token is required (Authorization: Bearer <gateway token>)");
    }
    String hash = Secrets.hash(authorization.substring(7).strip());
    if (tokenHashes.stream().noneMatch(known -> Secrets.sameHash(known, hash))) {
      throw ApiError.unauthorized("invalid gateway token");
    }
  }

  private UsageEvent toEvent(JsonNode node) {
    if (node == null || !node.isObject()) {
      throw ApiError.invalid(null, "each event must be a JSON object");
    }
    String keyId = text(node, "api_key_id", true);
    ApiKey key = keys.get(keyId).orElseThrow(() -> ApiError.invalid("api_key_id", "unknown api_key_id " + keyId));
    long now = clock.millis();
    long timestamp = node.has("timestamp") ? count(node, "timestamp", Long.MAX_VALUE) : now;
    return UsageEvent.newBuilder()
        .setEventId(Optional.ofNullable(text(node, "event_id", false)).orElseGet(() -> EventIds.next(now)))
        .setOrgId(key.getOrgId())
        .setApiKeyId(keyId)
        .setModel(text(node, "model", true))
        .setInputTokens(count(node, "input_tokens", MAX_TOKENS))
        .setOutputTokens(count(node, "output_tokens", MAX_TOKENS))
        .setCacheCreationInputTokens(node.has("cache_creation_input_tokens")
            ? count(node, "cache_creation_input_tokens", MAX_TOKENS) : 0)
        .setCacheReadInputTokens(node.has("cache_read_input_tokens") ? count(node, "cache_read_input_tokens", MAX_TOKENS) : 0)
        .setTimestamp(timestamp)
        .setGatewayId(Optional.ofNullable(text(node, "gateway_id", false)).orElse("http"))
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
    if (!value.isTextual() || value.asText().isBlank() || value.asText().length() > UsageLimits.MAX_FIELD_LENGTH) {
      throw ApiError.invalid(field, field + " must be a non-empty string of at most "
          + UsageLimits.MAX_FIELD_LENGTH + " characters");
    }
    return value.asText();
  }

  private static long count(JsonNode node, String field, long max) {
    JsonNode value = node.get(field);
    if (value == null || !value.isIntegralNumber() || value.asLong() < 0 || value.asLong() > max) {
      throw ApiError.invalid(field, field + " must be a whole number from 0 to " + max);
    }
    return value.asLong();
  }
}
