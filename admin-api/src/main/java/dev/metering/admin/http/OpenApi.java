package dev.metering.admin.http;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Builds the OpenAPI 3 document of the admin API from its route table. */
public final class OpenApi {

  private OpenApi() {
  }

  public static Map<String, Object> document(List<Route> routes, String version) {
    Map<String, Object> paths = new LinkedHashMap<>();
    for (Route route : routes) {
      @SuppressWarnings("unchecked")
      Map<String, Object> path = (Map<String, Object>) paths.computeIfAbsent(route.path(), p -> new LinkedHashMap<>());
      Map<String, Object> operation = new LinkedHashMap<>();
      operation.put("summary", route.summary());
      operation.put("security", List.of(Map.of("bearerAuth", List.of()), Map.of("apiKeyHeader", List.of())));
      List<Map<String, Object>> parameters = new java.util.ArrayList<>();
      route.pathParams().forEach(name -> parameters.add(Map.of("name", name, "in", "path", "required", true,
          "schema", Map.of("type", "string"))));
      route.queryParams().forEach(name -> parameters.add(Map.of("name", name, "in", "query", "required", false,
          "schema", Map.of("type", "string"))));
      if (!parameters.isEmpty()) {
        operation.put("parameters", parameters);
      }
      if (!route.bodyFields().isEmpty()) {
        Map<String, Object> properties = new LinkedHashMap<>();
        route.bodyFields().forEach(field -> properties.put(field, Map.of()));
        operation.put("requestBody", Map.of("content", Map.of("application/json",
            Map.of("schema", Map.of("type", "object", "properties", properties, "additionalProperties", false)))));
      }
      Map<String, Object> responses = new LinkedHashMap<>();
      responses.put(Integer.toString(route.successStatus()), Map.of("description", "success"));
      for (String status : List.of("400", "401", "403", "404", "409", "503")) {
        responses.put(status, Map.of("$ref", "#/components/responses/Error"));
      }
      operation.put("responses", responses);
      path.put(route.method().toLowerCase(Locale.ROOT), operation);
    }
    paths.put("/v1/usage/events", Map.of("post", Map.of(
        "summary", "Usage from gateways: a JSON batch of up to 1000 events (each with its event_id), each checked and"
            + " answered on its own; answered once Kafka has the accepted ones",
        "security", List.of(Map.of("gatewayToken", List.of())),
        "requestBody", Map.of("content", Map.of("application/json", Map.of("schema", Map.of("type", "object",
            "properties", Map.of("events", Map.of("type", "array", "maxItems", 1000)))))),
        "responses", Map.of("202", Map.of("description", "every event accepted"),
            "207", Map.of("description", "some events rejected; see results"),
            "400", Map.of("$ref", "#/components/responses/Error"),
            "401", Map.of("$ref", "#/components/responses/Error"),
            "503", Map.of("description", "Kafka did not acknowledge every event in time; retry the batch as it was")))));
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("openapi", "3.0.3");
    doc.put("info", Map.of("title", "Token metering admin API", "version", version));
    doc.put("paths", paths);
    doc.put("components", Map.of(
        "securitySchemes", Map.of(
            "bearerAuth", Map.of("type", "http", "scheme", "bearer"),
            "gatewayToken", Map.of("type", "http", "scheme", "bearer", "description",
                "a gateway's token from GATEWAY_TOKENS, bound to its organisations"),
            "apiKeyHeader", Map.of("type", "apiKey", "in", "header", "name", "x-api-key")),
        "responses", Map.of("Error", Map.of("description", "{\"error\": {\"type\", \"message\", \"field\"}}"))));
    return doc;
  }
}
