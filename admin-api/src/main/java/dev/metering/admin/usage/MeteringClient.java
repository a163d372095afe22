package dev.metering.admin.usage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.admin.http.ApiError;
import dev.metering.keys.ServiceToken;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Calls metering-stream's query API with the service token; its 400s keep the parameter they
 * name, its 503s stay 503.
 */
public final class MeteringClient {

  private final String baseUrl;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final ObjectMapper json;

  private final ServiceToken token;

  public MeteringClient(String baseUrl, ServiceToken token, ObjectMapper json) {
    this.token = token;
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.json = json;
  }

  /** GET {@code path} with the non-null {@code params}; the answer's JSON. */
  public JsonNode get(String path, Map<String, String> params) {
    String query = params.entrySet().stream().filter(e -> e.getValue() != null)
        .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
    HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + path + (query.isEmpty() ? "" : "?" + query)))
        .header("Authorization", token.authorization()).timeout(Duration.ofSeconds(30)).GET().build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new ApiError(503, "unavailable_error", "the usage service cannot be reached right now", null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiError(503, "unavailable_error", "interrupted while asking the usage service", null);
    }
    JsonNode body;
    try {
      body = json.readTree(response.body());
    } catch (IOException e) {
      throw new ApiError(502, "api_error", "the usage service sent an unreadable answer", null);
    }
    if (response.statusCode() == 200) {
      return body;
    }
    String message = body.at("/error/message").asText("usage query failed");
    throw switch (response.statusCode()) {
      case 400 -> ApiError.invalid(body.at("/error/parameter").asText(null), message);
      case 404 -> ApiError.notFound(message);
      case 503 -> new ApiError(503, "unavailable_error", message, null);
      default -> new ApiError(502, "api_error", "the usage service answered " + response.statusCode(), null);
    };
  }
}
