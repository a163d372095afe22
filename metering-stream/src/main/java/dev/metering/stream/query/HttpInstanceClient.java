package dev.metering.stream.query;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.keys.ServiceToken;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.apache.kafka.streams.state.HostInfo;

/** {@link InstanceClient} over the query API itself, presenting the service token. */
final class HttpInstanceClient implements InstanceClient {

  /** Header on an internal request: answer from this instance's own partitions only. */
  static final String LOCAL_SCOPE_HEADER = "X-Metering-Scope";
  /** Header on a forwarded request: do not forward again. */
  static final String FORWARDED_HEADER = "X-Metering-Forwarded";
  /** Headers of a local-scope answer: the usage-events partitions it read, and the time before which they are final. */
  static final String PARTITIONS_HEADER = "X-Metering-Partitions";

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final ObjectMapper json;
  private final ServiceToken token;

  HttpInstanceClient(ObjectMapper json, ServiceToken token) {
    this.json = json;
    this.token = token;
  }

  @Override
  public QueryService.Answer.Forwarded forward(HostInfo host, String pathAndQuery) {
    try {
      HttpResponse<String> response = http.send(request(host, pathAndQuery, FORWARDED_HEADER),
          HttpResponse.BodyHandlers.ofString());
      return new QueryService.Answer.Forwarded(response.statusCode(), response.body(),
          response.headers().firstValue("Retry-After"));
    } catch (IOException e) {
      throw new UnavailableException("instance " + host + " did not answer: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnavailableException("interrupted while asking " + host, e);
    }
  }

  @Override
  public <T> CompletableFuture<Part<T>> part(HostInfo host, String pathAndQuery, Class<T> type) {
    return http.sendAsync(request(host, pathAndQuery, LOCAL_SCOPE_HEADER), HttpResponse.BodyHandlers.ofString())
        .thenApply(response -> {
          if (response.statusCode() != 200) {
            throw new UnavailableException("instance " + host + " answered " + response.statusCode());
          }
          try {
            return new Part<>(json.readValue(response.body(), type), coverage(response.headers()));
          } catch (IOException e) {
            throw new UnavailableException("instance " + host + " sent an unreadable answer", e);
          }
        });
  }

  /** The headers a local-scope answer carries to say what it read. */
  static Map<String, String> coverageHeaders(LocalQueries.Coverage coverage) {
    String partitions = coverage.partitions().stream().sorted().map(String::valueOf).collect(Collectors.joining(","));
    return Map.of(PARTITIONS_HEADER, partitions);
  }

  /** What a local-scope answer says it read; null if it says nothing usable (an older instance). */
  static LocalQueries.Coverage coverage(HttpHeaders headers) {
    Optional<String> partitions = headers.firstValue(PARTITIONS_HEADER);
    if (partitions.isEmpty()) {
      return null;
    }
    try {
      Set<Integer> read = new HashSet<>();
      for (String partition : partitions.get().split(",")) {
        if (!partition.isEmpty()) {
          read.add(Integer.parseInt(partition));
        }
      }
      return new LocalQueries.Coverage(read);
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private HttpRequest request(HostInfo host, String pathAndQuery, String header) {
    return HttpRequest.newBuilder(URI.create("http://" + host.host() + ":" + host.port() + pathAndQuery))
        .timeout(Duration.ofSeconds(10))
        .header(header, "1")
        .header("Authorization", token.authorization())
        .GET()
        .build();
  }
}
