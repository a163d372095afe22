package dev.metering.demo;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drives the gateway with a few keys at their own rates: steady keys, one that spikes to many
 * times its rate every other minute, and whatever keys the caller gives (a hard-limited one
 * soon gets 429s). Counts the answers by status.
 */
public final class TrafficGenerator implements AutoCloseable {

  /** A key to drive: calls per second, and whether it bursts to {@code spikeFactor} x every other minute. */
  public record Driven(String name, String secret, double callsPerSecond, int spikeFactor) {
  }

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final URI messages;
  private final ScheduledExecutorService scheduler = Executors.newScheduledThreadPool(2, r -> {
    Thread thread = new Thread(r, "traffic-generator");
    thread.setDaemon(true);
    return thread;
  });
  private final Map<Integer, AtomicLong> byStatus = new ConcurrentHashMap<>();

  public TrafficGenerator(String gatewayUrl, List<Driven> keys) {
    this.messages = URI.create(gatewayUrl + "/v1/messages");
    long start = System.currentTimeMillis();
    for (Driven key : keys) {
      long periodMicros = (long) (1_000_000 / key.callsPerSecond());
      scheduler.scheduleAtFixedRate(() -> {
        boolean spiking = key.spikeFactor() > 1 && ((System.currentTimeMillis() - start) / 60_000) % 2 == 1;
        for (int i = 0; i < (spiking ? key.spikeFactor() : 1); i++) {
          call(key.secret());
        }
      }, periodMicros, periodMicros, TimeUnit.MICROSECONDS);
    }
  }

  private void call(String secret) {
    HttpRequest request = HttpRequest.newBuilder(messages)
        .timeout(Duration.ofSeconds(5))
        .header("x-api-key", secret)
        .header("content-type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":256,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Summarise the meeting notes in three bullet points.\"}]}"))
        .build();
    http.sendAsync(request, HttpResponse.BodyHandlers.discarding())
        .whenComplete((response, error) -> byStatus.computeIfAbsent(error == null ? response.statusCode() : 0,
            s -> new AtomicLong()).incrementAndGet());
  }

  /** Answers so far by HTTP status (0: no answer). */
  public Map<Integer, Long> answers() {
    Map<Integer, Long> copy = new java.util.TreeMap<>();
    byStatus.forEach((status, count) -> copy.put(status, count.get()));
    return copy;
  }

  @Override
  public void close() {
    scheduler.shutdownNow();
  }
}
