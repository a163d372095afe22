package dev.metering.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metering.admin.http.Route;
import dev.metering.client.AdminClient;
import dev.metering.api.admin.CreateApiKey;
import dev.metering.api.admin.AlertInfo;
import dev.metering.api.admin.ApiKeyInfo;
import dev.metering.config.Env;
import dev.metering.json.Json;
import dev.metering.kafka.KafkaBroker;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.keys.Secrets;
import dev.metering.schemas.UsageLimits;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * admin-api's security, walked from its route table so a new route cannot be forgotten: every
 * route with every kind of bad credential, every route with another organisation's ids, and every
 * field of every request body with hostile values. A real broker; no metering-stream (nothing
 * here gets as far as a usage query).
 */
class AdminApiSecurityIT {

  private static final String ALICE_KEY = Secrets.generate();
  private static final String GATEWAY_TOKEN = "security-it-gateway-token";
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final ObjectMapper JSON = Json.mapper();

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(2);
  private static AdminApi api;
  private static AdminClient alice;
  private static String baseUrl;

  @BeforeAll
  static void start() throws Exception {
    api = AdminApi.start(AdminConfig.from(new Env(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
        "ADMIN_HTTP_PORT", "0",
        "ADMIN_HTTP_BIND", "127.0.0.1",
        "METERING_QUERY_URL", "http://127.0.0.1:1",
        "METERING_QUERY_TOKEN", Secrets.generate(),
        "METERING_WEBHOOK_SIGNING_KEY", "security-it-webhook-signing-key-0123456789",
        "ADMIN_BOOTSTRAP_ORG_ID", "org-a",
        "ADMIN_BOOTSTRAP_ADMIN_EMAIL", "alice@a.example",
        "METERING_BOOTSTRAP_ADMIN_KEY", ALICE_KEY,
        "GATEWAY_TOKENS", "gw:org-a:" + GATEWAY_TOKEN))), Clock.systemUTC());
    baseUrl = "http://127.0.0.1:" + api.port();
    alice = AdminClient.create(baseUrl, ALICE_KEY);
  }

  @AfterAll
  static void stop() {
    if (api != null) {
      api.close();
    }
  }

  @Test
  void shouldAnswerEveryRouteWithTheExactStatusForEachKindOfBadCredential() throws Exception {
    String revoked = api.provisionAdminKey("org-a", "revoked@a.example");
    alice.apiKeys().revoke(idOf(revoked));
    String rotatedOut = api.provisionAdminKey("org-a", "rotated@a.example");
    alice.apiKeys().rotate(idOf(rotatedOut), Duration.ZERO);
    String expired = api.provisionAdminKey("org-a", "expired@a.example");
    alice.apiKeys().rotate(idOf(expired), Duration.ofSeconds(1));
    String nonAdmin = alice.apiKeys().create(CreateApiKey.named("not an admin")).key();
    KafkaTestSupport.await("the grace period of the old secret to end", Duration.ofSeconds(10),
        () -> status("GET", "/v1/organizations/api_keys", expired, null) == 401);
    Map<String, Integer> expected = new LinkedHashMap<>();
    expected.put(null, 401);
    expected.put("not-even-a-key", 401);
    expected.put(Secrets.generate(), 401);
    expected.put(revoked, 401);
    expected.put(rotatedOut, 401);
    expected.put(expired, 401);
    expected.put(nonAdmin, 403);
    expected.put(GATEWAY_TOKEN, 401);

    List<String> wrong = new ArrayList<>();
    for (Route route : api.routes()) {
      String path = route.path().replaceAll("\\{[^}]+}", "some-id");
      expected.forEach((secret, status) -> {
        int got = status(route.method(), path, secret, "{}");
        if (got != status) {
          wrong.add(route.method() + " " + route.path() + " with " + describe(secret) + ": " + got + ", not " + status);
        }
      });
    }
    for (String secret : new String[] {null, ALICE_KEY, nonAdmin, "nope"}) {
      int got = status("POST", "/v1/usage/events", secret, "{\"events\":[]}");
      if (got != 401) {
        wrong.add("POST /v1/usage/events with " + describe(secret) + ": " + got + ", not 401 (it wants a gateway token)");
      }
    }

    assertEquals(List.of(), wrong);
  }

  @Test
  void shouldRefuseARequestThatPresentsTwoDifferentCredentials() throws Exception {
    String bob = api.provisionAdminKey("org-b", "bob@b.example");
    String keys = "/v1/organizations/api_keys";
    Map<String, List<String[]>> refused = new LinkedHashMap<>();
    refused.put("Authorization of org-b, x-api-key of org-a", List.of(
        new String[] {"Authorization", "Bearer " + bob}, new String[] {"x-api-key", ALICE_KEY}));
    refused.put("Authorization of org-a, x-api-key of org-b", List.of(
        new String[] {"Authorization", "Bearer " + ALICE_KEY}, new String[] {"x-api-key", bob}));
    refused.put("x-api-key twice", List.of(new String[] {"x-api-key", ALICE_KEY}, new String[] {"x-api-key", bob}));
    refused.put("Authorization twice", List.of(
        new String[] {"Authorization", "Bearer " + ALICE_KEY}, new String[] {"Authorization", "Bearer nope"}));
    List<String> wrong = new ArrayList<>();
    refused.forEach((what, headers) -> {
      HttpResponse<String> response = sendWithHeaders("GET", keys, headers, null);
      if (response.statusCode() != 401 || !response.body().contains("different credentials")) {
        wrong.add(what + ": " + response.statusCode() + " " + response.body());
      }
    });
    HttpResponse<String> twoTokens = sendWithHeaders("POST", "/v1/usage/events", List.of(
        new String[] {"Authorization", "Bearer " + GATEWAY_TOKEN}, new String[] {"Authorization", "Bearer other"}),
        "{\"events\":[]}");
    if (twoTokens.statusCode() != 401) {
      wrong.add("two gateway tokens: " + twoTokens.statusCode() + " " + twoTokens.body());
    }

    assertEquals(List.of(), wrong);
    HttpResponse<String> sameInBoth = sendWithHeaders("GET", keys, List.of(
        new String[] {"Authorization", "Bearer " + ALICE_KEY}, new String[] {"x-api-key", ALICE_KEY}), null);
    assertEquals(200, sameInBoth.statusCode(), "one key, presented twice: " + sameInBoth.body());
    assertEquals(200, sendWithHeaders("GET", keys, List.<String[]>of(new String[] {"x-api-key", bob}), null)
        .statusCode(), "org-b's key on its own");
  }

  private static HttpResponse<String> sendWithHeaders(String method, String path, List<String[]> headers,
      String body) {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path))
        .header("Content-Type", "application/json")
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    headers.forEach(header -> request.header(header[0], header[1]));
    try {
      return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError(method + " " + path + " failed", e);
    }
  }

  @Test
  void shouldAnswerAnotherOrganisationsIdsAsIfTheyDidNotExist() throws Exception {
    String bobKey = api.provisionAdminKey("org-b", "bob@b.example");
    ApiKeyInfo aliceKey = alice.apiKeys().create(CreateApiKey.named("alice's").maxTokensPerMonth(100L));
    AlertInfo aliceRule = alice.alerts().create("alice's rule", aliceKey.id(), 50, null, "https://hooks.a.example/x");
    Map<String, String> ids = Map.of("api_key_id", aliceKey.id(), "alert_id", aliceRule.id());

    List<String> wrong = new ArrayList<>();
    int checked = 0;
    for (Route route : api.routes()) {
      if (route.pathParams().isEmpty()) {
        continue;
      }
      String path = route.path();
      for (String param : route.pathParams()) {
        path = path.replace("{" + param + "}", ids.get(param));
      }
      int got = status(route.method(), path, bobKey, "{}");
      checked++;
      if (got != 404) {
        wrong.add(route.method() + " " + route.path() + " with another org's id: " + got + ", not 404");
      }
    }

    assertEquals(List.of(), wrong);
    assertTrue(checked >= 5, "every route with an id was walked: " + checked);
    assertEquals("active", alice.apiKeys().get(aliceKey.id()).status(), "and nothing of alice's changed");
    assertTrue(alice.alerts().list().stream().anyMatch(a -> a.id().equals(aliceRule.id())));
  }

  @Test
  void shouldAnswer400NamingTheFieldForEveryHostileValueOfEveryBodyField() throws Exception {
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("fuzzed").maxTokensPerMonth(1000L));
    Map<String, ObjectNode> valid = new LinkedHashMap<>();
    valid.put("POST /v1/organizations/api_keys", object(Map.of("name", "fuzz")));
    valid.put("POST /v1/organizations/api_keys/{api_key_id}", object(Map.of()));
    valid.put("POST /v1/organizations/api_keys/{api_key_id}/rotate", object(Map.of("grace_period_seconds", 0)));
    valid.put("POST /v1/organizations/budget", object(Map.of("max_tokens_per_month", 1000)));
    valid.put("POST /v1/organizations/alerts", object(Map.of("name", "fuzz", "key_id", key.id(),
        "threshold_percent", 50, "notification_email", "ops@a.example")));
    List<String> hostile = List.of("\"" + "x".repeat(100_000) + "\"", "12", "-1", "0", "true", "[]", "[1,\"a\"]",
        "{}", "{\"a\":{\"b\":[]}}", "99999999999999999999999999", "1e309", "-9223372036854775808", "9223372036854775807",
        "1.5", "\"\"", "\"   \"", "\"\\u0000\"", "\"line\\nbreak\"", "\"\\u001b[31mred\"", "\"ключ 🔑 \\u202e\"", "\"system:alert-service\"",
        "\"lone \\ud800 surrogate\"", "\"\\ufffd\"",
        "\"" + "é".repeat(300) + "\"");

    List<String> wrong = new ArrayList<>();
    int sent = 0;
    for (Route route : api.routes()) {
      String name = route.method() + " " + route.path();
      if (!route.method().equals("POST") || route.bodyFields().isEmpty()) {
        continue;
      }
      assertTrue(valid.containsKey(name), "a valid body is known for " + name);
      for (String field : route.bodyFields()) {
        for (String value : hostile) {
          ObjectNode body = valid.get(name).deepCopy();
          String path = route.path().replace("{api_key_id}", alice.apiKeys().create(CreateApiKey.named("target")).id());
          HttpResponse<String> response = send("POST", path, ALICE_KEY, withRaw(body, field, value));
          sent++;
          String shown = value.length() > 40 ? value.substring(0, 40) + "..." : value;
          if (response.statusCode() >= 500) {
            wrong.add(name + " " + field + "=" + shown + ": " + response.statusCode());
          } else if (response.statusCode() == 400) {
            String named = JSON.readTree(response.body()).at("/error/field").asText(null);
            if (!field.equals(named)) {
              wrong.add(name + " " + field + "=" + shown + ": 400 naming " + named);
            }
          } else if (mustBeRefused(value)) {
            wrong.add(name + " " + field + "=" + shown + ": " + response.statusCode() + ", not 400");
          }
        }
      }
    }
    for (String garbage : List.of("", "{", "[]", "null", "\"text\"", "{\"a\":" + "[".repeat(5000),
        "{\"name\":\"a\",\"name\":\"b\"}")) {
      int got = send("POST", "/v1/organizations/api_keys", ALICE_KEY, garbage).statusCode();
      if (got != 400) {
        wrong.add("POST /v1/organizations/api_keys with body " + garbage.substring(0, Math.min(20, garbage.length()))
            + ": " + got);
      }
    }

    assertEquals(List.of(), wrong);
    assertTrue(sent > 300, "sent " + sent);
  }

  @Test
  void shouldAnswerEachHostileIngestFieldOnItsOwnNamingIt() throws Exception {
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("ingested"));
    List<String> fields = List.of("event_id", "api_key_id", "model", "input_tokens", "output_tokens",
        "cache_creation_input_tokens", "cache_read_input_tokens", "timestamp", "gateway_id", "request_id");
    List<String> hostile = List.of("\"" + "x".repeat(10_000) + "\"", "-1", "true", "[]", "{}",
        "99999999999999999999999999", "1e309", "1.5", "\"\"", "\"ключ 🔑\"");
    List<String> wrong = new ArrayList<>();
    for (String field : fields) {
      List<String> events = new ArrayList<>();
      for (String value : hostile) {
        ObjectNode event = object(Map.of("event_id", "e-" + field + events.size(), "api_key_id", key.id(),
            "model", "m", "input_tokens", 1, "output_tokens", 1));
        events.add(withRaw(event, field, value));
      }
      HttpResponse<String> response = send("POST", "/v1/usage/events", GATEWAY_TOKEN,
          "{\"events\":[" + String.join(",", events) + "]}");
      if (response.statusCode() >= 500) {
        wrong.add(field + ": " + response.statusCode() + " " + response.body());
        continue;
      }
      JsonNode results = JSON.readTree(response.body()).get("results");
      for (int i = 0; i < hostile.size(); i++) {
        JsonNode result = results.get(i);
        if (result.get("status").asText().equals("rejected") && !field.equals(result.at("/error/field").asText(null))) {
          wrong.add(field + "=" + hostile.get(i).substring(0, Math.min(20, hostile.get(i).length())) + ": rejected naming "
              + result.at("/error/field").asText(null));
        }
      }
    }
    assertEquals(List.of(), wrong);
  }

  @Test
  void shouldAnswerWhatTheServerRefusesBeforeTheRouteInTheApisErrorShape() throws Exception {
    // Javalin answered these in plain text ("Endpoint GET /v1/nope not found", "Content Too Large")
    HttpResponse<String> unknown = send("GET", "/v1/organizations/no_such_thing", ALICE_KEY, null);
    assertEquals(404, unknown.statusCode());
    assertEquals("not_found_error", JSON.readTree(unknown.body()).at("/error/type").asText());
    assertEquals("no such endpoint: GET /v1/organizations/no_such_thing",
        JSON.readTree(unknown.body()).at("/error/message").asText());
    HttpResponse<String> wrongMethod = send("DELETE", "/v1/organizations/audit_logs", ALICE_KEY, null);
    assertEquals(405, wrongMethod.statusCode(), "the audit log cannot be deleted, and says so in JSON");
    assertEquals("invalid_request_error", JSON.readTree(wrongMethod.body()).at("/error/type").asText());
    assertEquals("DELETE is not allowed on /v1/organizations/audit_logs; it takes GET",
        JSON.readTree(wrongMethod.body()).at("/error/message").asText());
    assertEquals("GET", wrongMethod.headers().firstValue("Allow").orElse(null));
    HttpResponse<String> keys = send("PUT", "/v1/organizations/api_keys", ALICE_KEY, "{}");
    assertEquals(405, keys.statusCode());
    assertEquals("GET, POST", keys.headers().firstValue("Allow").orElse(null));

    HttpResponse<String> twice = send("GET", "/v1/organizations/audit_logs?start_date=2026-11-01&end_date=2026-11-02"
        + "&start_date=2026-01-01", ALICE_KEY, null);
    assertEquals(400, twice.statusCode(), "a parameter given twice: which would count is up to the server");
    assertEquals("start_date", JSON.readTree(twice.body()).at("/error/field").asText());

    String tooLarge = "{\"name\":\"big\",\"description\":\"" + "x".repeat((int) AdminApi.MAX_REQUEST_BYTES) + "\"}";
    HttpResponse<String> refused = send("POST", "/v1/organizations/api_keys", ALICE_KEY, tooLarge);
    assertEquals(413, refused.statusCode());
    assertEquals("invalid_request_error", JSON.readTree(refused.body()).at("/error/type").asText());
    assertEquals("the request body is larger than " + AdminApi.MAX_REQUEST_BYTES + " bytes",
        JSON.readTree(refused.body()).at("/error/message").asText());

    // Jetty refused these before Javalin saw them, with an HTML page
    HttpResponse<String> nul = send("GET", "/v1/organizations/api_keys/key%00x", ALICE_KEY, null);
    assertEquals(400, nul.statusCode());
    assertEquals("application/json", nul.headers().firstValue("Content-Type").orElse(""));
    assertEquals("invalid_request_error", JSON.readTree(nul.body()).at("/error/type").asText(), nul.body());
    assertTrue(JSON.readTree(nul.body()).at("/error/message").asText().startsWith("the request is malformed"),
        nul.body());
    HttpResponse<String> hugeHeader = HTTP.send(
        HttpRequest.newBuilder(URI.create(baseUrl + "/v1/organizations/api_keys"))
        .header("x-api-key", "k".repeat(100_000)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(431, hugeHeader.statusCode());
    assertEquals("invalid_request_error", JSON.readTree(hugeHeader.body()).at("/error/type").asText(),
        hugeHeader.body());
  }

  @Test
  void shouldTakeTheLargestValidUsageBatch() throws Exception {
    // a full batch of events whose strings are at their longest, in a script of three UTF-8 bytes
    // a character, was over Javalin's 1 MB default
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("full batch"));
    List<String> events = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      events.add(JSON.writeValueAsString(object(Map.of("event_id", pad("batch-" + i + "-"), "api_key_id", key.id(),
          "model", pad("model-"), "request_id", pad("request-" + i + "-"), "input_tokens", 1, "output_tokens", 1))));
    }
    String body = "{\"events\":[" + String.join(",", events) + "]}";
    int bytes = body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    assertTrue(bytes > 2_000_000, "well over the old limit: " + bytes);

    HttpResponse<String> response = send("POST", "/v1/usage/events", GATEWAY_TOKEN, body);

    assertEquals(202, response.statusCode(), response.body().substring(0, Math.min(300, response.body().length())));
  }

  @Test
  void shouldRefuseAnObjectThatNamesAFieldTwice() throws Exception {
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("twice"));
    String event = "{\"event_id\":\"twice-1\",\"api_key_id\":\"" + key.id()
        + "\",\"model\":\"m\",\"input_tokens\":1,\"output_tokens\":1,\"input_tokens\":900000}";

    HttpResponse<String> usage = send("POST", "/v1/usage/events", GATEWAY_TOKEN, "{\"events\":[" + event + "]}");
    HttpResponse<String> created = send("POST", "/v1/organizations/api_keys", ALICE_KEY,
        "{\"name\":\"ops\",\"name\":\"admin@a.example\"}");

    // which of the two counts would be up to the parser: neither may
    assertEquals(400, usage.statusCode());
    assertTrue(JSON.readTree(usage.body()).at("/error/message").asText().contains("Duplicate field 'input_tokens'"),
        usage.body());
    assertEquals(400, created.statusCode());
    assertTrue(JSON.readTree(created.body()).at("/error/message").asText().contains("Duplicate field 'name'"),
        created.body());
  }

  @Test
  void shouldRefuseAtTheDoorAnEventMeteringWouldDeadLetter() throws Exception {
    // it was answered "accepted" (durable), then dead-lettered as RESERVED_VALUE: never counted
    ApiKeyInfo key = alice.apiKeys().create(CreateApiKey.named("reserved"));
    String event = JSON.writeValueAsString(object(Map.of("event_id", "reserved-1", "api_key_id", key.id(),
        "model", UsageLimits.OTHER_MODELS, "input_tokens", 1, "output_tokens", 1)));

    HttpResponse<String> response = send("POST", "/v1/usage/events", GATEWAY_TOKEN, "{\"events\":[" + event + "]}");

    JsonNode result = JSON.readTree(response.body()).at("/results/0");
    assertEquals("rejected", result.get("status").asText(), response.body());
    assertEquals("model", result.at("/error/field").asText());

    // it was answered "accepted" and counted as a model "\u0000evil" of its own in every report
    String controlled = JSON.writeValueAsString(object(Map.of("event_id", "controlled-1", "api_key_id", key.id(),
        "model", "\u0000evil", "input_tokens", 1, "output_tokens", 1)));
    HttpResponse<String> refused = send("POST", "/v1/usage/events", GATEWAY_TOKEN, "{\"events\":[" + controlled + "]}");
    JsonNode refusal = JSON.readTree(refused.body()).at("/results/0");
    assertEquals("rejected", refusal.get("status").asText(), refused.body());
    assertEquals("model must not hold control characters", refusal.at("/error/message").asText());

    // a model that only looks like one: "m" + a zero-width space was a model of its own, fallback-priced
    String invisible = JSON.writeValueAsString(object(Map.of("event_id", "invisible-1", "api_key_id", key.id(),
        "model", "claude-sonnet-4-5\u200B", "input_tokens", 1, "output_tokens", 1)));
    HttpResponse<String> unseen = send("POST", "/v1/usage/events", GATEWAY_TOKEN, "{\"events\":[" + invisible + "]}");
    assertEquals("model must not hold invisible format characters (zero-width, bidirectional, byte order mark)",
        JSON.readTree(unseen.body()).at("/results/0/error/message").asText(), unseen.body());

    // ids "x" + a lone surrogate, or + bytes that are not UTF-8, were answered "accepted", then stored as
    // "x?" or read as "x\uFFFD": one id, so all but the first were dropped as duplicates
    String lone = "{\"events\":[{\"event_id\":\"lone-\\ud800\",\"api_key_id\":\"" + key.id()
        + "\",\"model\":\"m\",\"input_tokens\":1,\"output_tokens\":1}]}";
    byte[] notUtf8 = lone.replace("\\ud800", "#").getBytes(StandardCharsets.UTF_8);
    notUtf8[new String(notUtf8, StandardCharsets.UTF_8).indexOf('#')] = (byte) 0xFF;
    for (HttpRequest.BodyPublisher body : List.of(HttpRequest.BodyPublishers.ofString(lone),
        HttpRequest.BodyPublishers.ofByteArray(notUtf8))) {
      HttpResponse<String> malformed = sendBody("POST", "/v1/usage/events", GATEWAY_TOKEN, body);
      JsonNode malformedRefusal = JSON.readTree(malformed.body()).at("/results/0");
      assertEquals("rejected", malformedRefusal.get("status").asText(), malformed.body());
      assertEquals("event_id", malformedRefusal.at("/error/field").asText(), malformed.body());
      assertTrue(malformedRefusal.at("/error/message").asText().startsWith("event_id must be well-formed Unicode text"),
          malformed.body());
    }
  }

  private static String pad(String prefix) {
    return prefix + "語".repeat(UsageLimits.MAX_FIELD_LENGTH - prefix.length());
  }

  @Test
  void shouldBoundTheKeysOfAnOrganisation() throws Exception {
    // issue 14: keys per org had no upper bound (they are never deleted, only revoked)
    String secret = Secrets.generate();
    try (AdminApi capped = startAlone("org-capped", secret, "ADMIN_MAX_KEYS_PER_ORG", "3")) {
      AdminClient admin = AdminClient.create("http://127.0.0.1:" + capped.port(), secret);
      admin.apiKeys().revoke(admin.apiKeys().create(CreateApiKey.named("second")).id());
      admin.apiKeys().create(CreateApiKey.named("third"));

      var refused = org.junit.jupiter.api.Assertions.assertThrows(dev.metering.client.AdminApiException.Conflict.class,
          () -> admin.apiKeys().create(CreateApiKey.named("fourth")));

      assertTrue(refused.getMessage().contains("already has 3 API keys"), refused.getMessage());
    }
  }

  @Test
  void shouldHoldTheKeyCapAgainstCreationsAtTheSameMoment() throws Exception {
    // each creation counted the org's keys, then wrote: requests at the same moment all saw room for one more
    String secret = Secrets.generate();
    try (AdminApi capped = startAlone("org-raced", secret, "ADMIN_MAX_KEYS_PER_ORG", "4")) {
      AdminClient admin = AdminClient.create("http://127.0.0.1:" + capped.port(), secret);

      int created = Races.succeeded(12, i -> admin.apiKeys().create(CreateApiKey.named("racer " + i)));

      assertEquals(3, created, "room for 3 besides the bootstrap admin key");
      assertEquals(4L, java.util.stream.StreamSupport.stream(admin.apiKeys().list(null).spliterator(), false).count());
    }
  }

  @Test
  void shouldHoldTheKeyCapAgainstCreationsAtTheSameMomentOnTwoInstances() throws Exception {
    // each instance checked its own creations one at a time: two instances together passed the cap
    String secret = Secrets.generate();
    try (AdminApi first = startAlone("org-raced-twice", secret, "ADMIN_MAX_KEYS_PER_ORG", "4");
        AdminApi second = startAlone("org-raced-twice", secret, "ADMIN_MAX_KEYS_PER_ORG", "4")) {
      List<AdminClient> admins = List.of(AdminClient.create("http://127.0.0.1:" + first.port(), secret),
          AdminClient.create("http://127.0.0.1:" + second.port(), secret));

      int created = Races.succeeded(12, i -> admins.get(i % 2).apiKeys().create(CreateApiKey.named("racer " + i)));

      assertEquals(3, created, "room for 3 besides the bootstrap admin key");
      for (AdminClient admin : admins) {
        java.util.function.LongSupplier keys = () -> java.util.stream.StreamSupport.stream(
            admin.apiKeys().list(null).spliterator(), false).count();
        KafkaTestSupport.await("each instance's view to hold the other's keys",
            Duration.ofSeconds(30), () -> keys.getAsLong() >= 4);
        assertEquals(4L, keys.getAsLong());
      }
    }
  }

  @Test
  void shouldAnswer429WithRetryAfterOnceAnOrganisationMadeItsChangesOfTheMinute() throws Exception {
    // every change is an audit record, kept for good: one tenant's loop could grow the log without end
    String secret = Secrets.generate();
    try (AdminApi limited = startAlone("org-busy", secret, "ADMIN_MAX_CHANGES_PER_ORG_PER_MINUTE", "3")) {
      String base = "http://127.0.0.1:" + limited.port();
      AdminClient admin = AdminClient.create(base, secret);
      ApiKeyInfo key = admin.apiKeys().create(CreateApiKey.named("busy"));
      for (int i = 0; i < 5; i++) {
        String invalid = "refused " + i;
        org.junit.jupiter.api.Assertions.assertThrows(dev.metering.client.AdminApiException.InvalidRequest.class,
            () -> admin.apiKeys().create(CreateApiKey.named(invalid).maxTokensPerMonth(-1L)), "changes nothing, counts not");
      }
      admin.apiKeys().update(key.id(), AdminClient.UpdateApiKey.changes().description("first"));
      admin.apiKeys().update(key.id(), AdminClient.UpdateApiKey.changes().description("second"));

      HttpResponse<String> refused = HTTP.send(HttpRequest.newBuilder(URI.create(base
              + "/v1/organizations/api_keys/" + key.id()))
          .header("x-api-key", secret).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"description\":\"third\"}")).build(),
          HttpResponse.BodyHandlers.ofString());

      assertEquals(429, refused.statusCode(), refused.body());
      assertTrue(refused.body().contains("\"type\":\"rate_limit_error\""), refused.body());
      long wait = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
      assertTrue(wait >= 1 && wait <= 20, "a third of a minute at most: " + wait);
      assertEquals("second", admin.apiKeys().get(key.id()).description(), "reads still answer; the change was not made");
    }
  }

  /**
   * An admin-api of its own for the organisation {@code orgId}, whose bootstrap admin key is
   * {@code secret}, with one setting of its own.
   */
  private static AdminApi startAlone(String orgId, String secret, String setting, String value)
      throws InterruptedException {
    return AdminApi.start(AdminConfig.from(new Env(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
        "ADMIN_HTTP_PORT", "0",
        "ADMIN_HTTP_BIND", "127.0.0.1",
        "METERING_QUERY_TOKEN", Secrets.generate(),
        "METERING_WEBHOOK_SIGNING_KEY", "security-it-webhook-signing-key-0123456789",
        "ADMIN_BOOTSTRAP_ORG_ID", orgId,
        "ADMIN_BOOTSTRAP_ADMIN_EMAIL", "admin@" + orgId + ".example",
        "METERING_BOOTSTRAP_ADMIN_KEY", secret,
        setting, value))), Clock.systemUTC());
  }

  /** Values no field of this API accepts: oversized, nested, or numbers no field can hold. */
  private static boolean mustBeRefused(String value) {
    return value.length() > 2048 || value.startsWith("{") || value.startsWith("[1") || value.equals("1e309")
        || value.contains("\\u0000") || value.contains("\\n") || value.contains("\\u001b")
        || value.contains("\\ud800") || value.contains("\\ufffd")
        || value.equals("99999999999999999999999999") || value.equals("1.5");
  }

  /** {@code body} with {@code field} set to the raw JSON {@code value}, exactly as written (1e309 stays 1e309). */
  private static String withRaw(ObjectNode body, String field, String value) throws Exception {
    body.put(field, "__RAW__");
    return JSON.writeValueAsString(body).replace("\"__RAW__\"", value);
  }

  private static ObjectNode object(Map<String, Object> fields) {
    return JSON.valueToTree(fields);
  }

  private static String idOf(String secret) {
    String prefix = Secrets.displayPrefix(secret);
    for (ApiKeyInfo key : alice.apiKeys().list(null)) {
      if (key.keyPrefix().equals(prefix)) {
        return key.id();
      }
    }
    throw new AssertionError("no key with prefix " + prefix);
  }

  private static String describe(String secret) {
    if (secret == null) {
      return "no key";
    }
    return secret.length() > 12 ? secret.substring(0, 12) + "..." : secret;
  }

  private static int status(String method, String path, String secret, String body) {
    try {
      return send(method, path, secret, body).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private static HttpResponse<String> send(String method, String path, String secret, String body) throws Exception {
    return sendBody(method, path, secret, body == null || method.equals("GET") || method.equals("DELETE")
        ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
  }

  private static HttpResponse<String> sendBody(String method, String path, String secret, HttpRequest.BodyPublisher body)
      throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUrl + path))
        .header("Content-Type", "application/json")
        .method(method, body);
    if (secret != null) {
      request.header("Authorization", "Bearer " + secret);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
