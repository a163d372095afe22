package dev.metering.admin.usage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.admin.http.ApiError;
import dev.metering.admin.http.OrgShares;
import dev.metering.keys.ServiceToken;
import java.io.IOException;
import java.io.InputStream;
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

  /**
   * @param maxConcurrentQueries usage queries under way at once; one organisation may hold at most
   *     three quarters of them
   */
  public MeteringClient(String baseUrl, ServiceToken token, ObjectMapper json, int maxConcurrentQueries) {
    this.inFlight = new java.util.concurrent.Semaphore(maxConcurrentQueries);
    this.shares = new OrgShares(maxConcurrentQueries, "usage queries");
    this.token = token;
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.json = json;
  }

  /** The largest answer read whole (by_key and totals; an org's keys are bounded, so it is too). */
  static final int MAX_ANSWER_BYTES = 32 * 1024 * 1024;
  /** Usage queries under way at once; more answer 503, so concurrent reports cannot exhaust the heap. */
  private final java.util.concurrent.Semaphore inFlight;
  /**
   * Three quarters at most for one organisation: a streamed report holds its place until its client
   * has read it, so without this one tenant reading slowly could keep every other one from its usage.
   */
  private final OrgShares shares;

  /**
   * GET {@code path} with the non-null {@code params} for {@code orgId}; the answer read whole (at
   * most 32 MiB) as {@code type}.
   */
  public <T> T get(String orgId, String path, Map<String, String> params, Class<T> type) {
    acquire(orgId);
    try (InputStream body = send(path, params)) {
      byte[] bytes = body.readNBytes(MAX_ANSWER_BYTES + 1);
      if (bytes.length > MAX_ANSWER_BYTES) {
        throw new ApiError(502, "api_error", "the usage answer is larger than " + MAX_ANSWER_BYTES / 1048576
            + " MiB; ask for a shorter range", null);
      }
      return json.readValue(bytes, type);
    } catch (IOException e) {
      throw new ApiError(502, "api_error", "the usage service sent an unreadable answer", null);
    } finally {
      release(orgId);
    }
  }

  /**
   * GET {@code path} with the non-null {@code params} for {@code orgId}, for an answer passed
   * through as it comes (usage reports, tens of megabytes for a large org): the caller streams it
   * to its client and must close it, which frees its place among the queries under way.
   */
  public InputStream stream(String orgId, String path, Map<String, String> params) {
    acquire(orgId);
    try {
      InputStream body = send(path, params);
      return new java.io.FilterInputStream(body) {
        private boolean closed;

        @Override
        public void close() throws IOException {
          if (!closed) {
            closed = true;
            release(orgId);
          }
          super.close();
        }
      };
    } catch (RuntimeException e) {
      release(orgId);
      throw e;
    }
  }

  private void acquire(String orgId) {
    shares.take(orgId);
    if (!inFlight.tryAcquire()) {
      shares.give(orgId);
      throw new ApiError(503, "unavailable_error", "too many usage queries at once; retry shortly", null);
    }
  }

  private void release(String orgId) {
    inFlight.release();
    shares.give(orgId);
  }

  /** The body of a 200 answer; any other answer becomes the ApiError it stands for. */
  private InputStream send(String path, Map<String, String> params) {
    String query = params.entrySet().stream().filter(e -> e.getValue() != null)
        .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
        .collect(Collectors.joining("&"));
    HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + path + (query.isEmpty() ? "" : "?" + query)))
        .header("Authorization", token.authorization()).timeout(Duration.ofSeconds(30)).GET().build();
    HttpResponse<InputStream> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw new ApiError(503, "unavailable_error", "the usage service cannot be reached right now", null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiError(503, "unavailable_error", "interrupted while asking the usage service", null);
    }
    if (response.statusCode() == 200) {
      return response.body();
    }
    JsonNode body;
    try (InputStream in = response.body()) {
      body = json.readTree(in.readNBytes(64 * 1024));
    } catch (IOException e) {
      body = json.createObjectNode();
    }
    String message = body.at("/error/message").asText("usage query failed");
    throw switch (response.statusCode()) {
      case 400 -> ApiError.invalid(body.at("/error/field").asText(null), message);
      case 404 -> ApiError.notFound(message);
      case 503 -> new ApiError(503, "unavailable_error", message, null);
      default -> new ApiError(502, "api_error", "the usage service answered " + response.statusCode(), null);
    };
  }
}
