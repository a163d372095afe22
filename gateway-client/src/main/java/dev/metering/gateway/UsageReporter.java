package dev.metering.gateway;

import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import dev.metering.schemas.UsageLimits;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports one LLM call at a time as a UsageEvent, asynchronously, through an idempotent producer
 * (acks=all, lz4, batching) with a bounded buffer. When the brokers cannot be reached or the
 * buffer is full, {@link #record} fails within the configured time with a
 * {@link UsageReportingException} instead of blocking the gateway. An event queued is kept and
 * retried through an outage of the brokers for {@link #KEEP_UNDELIVERED} (KeyGuard stops admitting
 * calls soon after an outage begins, so what waits is bounded by those seconds of calls); sends
 * that fail even so are counted and logged, never dropped silently. {@link #close()} flushes what
 * is buffered. With a spool ({@link #create(String, String, Path)}), events also wait on disk until
 * acknowledged, so a process that dies does not lose the usage of the calls it served.
 */
public final class UsageReporter implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(UsageReporter.class);

  /** One call as the gateway saw it. */
  public record Call(String orgId, String apiKeyId, String model, long inputTokens, long outputTokens,
      long cacheCreationInputTokens, long cacheReadInputTokens, String requestId) {
    /**
     * @throws IllegalArgumentException for a call metering-stream would dead-letter (a model name
     *     over 256 characters, the reserved model, a token count out of range), so a gateway
     *     refuses it instead of serving a call whose usage never counts against the key's limits
     */
    public Call {
      check("org_id", Objects.requireNonNull(orgId, "orgId"));
      check("api_key_id", Objects.requireNonNull(apiKeyId, "apiKeyId"));
      check("model", Objects.requireNonNull(model, "model"));
      if (requestId != null) {
        check("request_id", requestId);
      }
      long[] counts = {inputTokens, outputTokens, cacheCreationInputTokens, cacheReadInputTokens};
      String[] names = {"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"};
      for (int i = 0; i < counts.length; i++) {
        String problem = UsageLimits.tokensProblem(names[i], counts[i]);
        if (problem != null) {
          throw new IllegalArgumentException(problem);
        }
      }
    }

    private static void check(String field, String value) {
      String problem = UsageLimits.stringProblem(field, value);
      if (problem != null) {
        throw new IllegalArgumentException(problem);
      }
    }
  }

  /** How long {@link #record} may wait for metadata or buffer space, unless told otherwise. */
  public static final Duration FAIL_FAST_AFTER = Duration.ofSeconds(2);

  /**
   * How long an event is retried before it is given up (counted in {@link #failed()} and logged):
   * as long as metering-stream's default late grace would still count it. A broker restart or a
   * cut of minutes used to lose the usage of the calls admitted just before it (2 minutes).
   */
  public static final Duration KEEP_UNDELIVERED = UsageLimits.DEFAULT_LATE_GRACE;

  /** The memory for events not yet sent, unless told otherwise. */
  public static final long BUFFER_BYTES = 32L * 1024 * 1024;

  private final KafkaProducer<String, byte[]> producer;
  private final String gatewayId;
  private final Clock clock;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  /** Null: events wait in memory only. */
  private final UsageSpool spool;
  private final Thread replay;
  private volatile boolean closing;

  /**
   * @param failFastAfter the longest {@link #record} may wait for metadata or buffer space
   * @param bufferBytes the memory for events not yet sent
   */
  public UsageReporter(String bootstrapServers, String gatewayId, Duration failFastAfter, long bufferBytes, Clock clock) {
    this(producerSettings(bootstrapServers, failFastAfter, bufferBytes), gatewayId, clock, null);
  }

  /**
   * A reporter whose producer has these settings (tests change one of {@link #producerSettings}).
   *
   * @param spoolDir where events wait on disk until acknowledged (see {@link #create(String, String, Path)}), or null
   */
  UsageReporter(Properties settings, String gatewayId, Clock clock, Path spoolDir) {
    this.gatewayId = Objects.requireNonNull(gatewayId, "gatewayId");
    this.clock = clock;
    try {
      this.spool = spoolDir == null ? null : UsageSpool.open(spoolDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the usage spool " + spoolDir, e);
    }
    try {
      this.producer = new KafkaProducer<>(settings, new StringSerializer(), new ByteArraySerializer());
    } catch (KafkaException e) {
      closeSpool();
      throw e;
    }
    if (spool != null) {
      replay = new Thread(this::sendLeftovers, "usage-spool-replay");
      replay.setDaemon(true);
      replay.start();
    } else {
      replay = null;
    }
  }

  /**
   * The producer settings of a reporter. A call's event waits at most 5 ms for others to share its
   * batch: the event that crosses a hard limit is in that wait too, and every millisecond of it is
   * tokens a gateway admits before the key is suspended; past a few hundred calls a second the
   * batches fill anyway.
   */
  public static Properties producerSettings(String bootstrapServers, Duration failFastAfter, long bufferBytes) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    props.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    props.put(ProducerConfig.BATCH_SIZE_CONFIG, 64 * 1024);
    props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, bufferBytes);
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, failFastAfter.toMillis());
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.min(Integer.MAX_VALUE, KEEP_UNDELIVERED.toMillis()));
    return props;
  }

  public static UsageReporter create(String bootstrapServers, String gatewayId) {
    return new UsageReporter(bootstrapServers, gatewayId, FAIL_FAST_AFTER, BUFFER_BYTES, Clock.systemUTC());
  }

  /**
   * A reporter that writes each event to {@code spoolDir} before queueing it and forgets it once
   * the brokers acknowledged it, so a gateway process that dies does not lose the usage of the
   * calls it served: the next reporter on the directory sends what it finds there again (at least
   * once; metering-stream drops repeats by event id). One gateway process per directory; it must
   * outlive the process (a volume, not a container's own filesystem).
   *
   * @throws IllegalStateException if another reporter holds the directory
   */
  public static UsageReporter create(String bootstrapServers, String gatewayId, Path spoolDir) {
    return new UsageReporter(producerSettings(bootstrapServers, FAIL_FAST_AFTER, BUFFER_BYTES), gatewayId,
        Clock.systemUTC(), Objects.requireNonNull(spoolDir, "spoolDir"));
  }

  /** Queues one call; returns its event id. Throws {@link UsageReportingException} if it cannot be queued in time. */
  public String record(Call call) {
    long now = clock.millis();
    UsageEvent event = UsageEvent.newBuilder()
        .setEventId(EventIds.next(now))
        .setOrgId(call.orgId())
        .setApiKeyId(call.apiKeyId())
        .setModel(call.model())
        .setInputTokens(call.inputTokens())
        .setOutputTokens(call.outputTokens())
        .setCacheCreationInputTokens(call.cacheCreationInputTokens())
        .setCacheReadInputTokens(call.cacheReadInputTokens())
        .setTimestamp(now)
        .setGatewayId(gatewayId)
        .setRequestId(call.requestId())
        .build();
    return send(event);
  }

  /** Queues an event built elsewhere; returns its event id. */
  public String send(UsageEvent event) {
    deliver(event);
    return event.getEventId();
  }

  /**
   * Queues an event and returns a future completed with its id once the brokers acknowledged it
   * (acks=all), or failed with a {@link UsageReportingException}: for callers that may only say
   * "accepted" once the event is durable (the HTTP ingestion endpoint). Throws at once, like
   * {@link #send}, when it cannot even be queued in time.
   */
  public CompletableFuture<String> deliver(UsageEvent event) {
    byte[] value = Topics.USAGE_EVENTS.encode(event);
    UsageSpool.Entry kept = keep(event, value);
    CompletableFuture<String> acknowledged = new CompletableFuture<>();
    Future<RecordMetadata> queued;
    Thread caller = Thread.currentThread();
    try {
      queued = producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), event.getApiKeyId(), value), (metadata, error) -> {
        if (error == null) {
          sent.incrementAndGet();
          settle(kept);
          acknowledged.complete(event.getEventId());
          return;
        }
        if (Thread.currentThread() == caller) {
          // never queued (no metadata in time): the caller is told below, and refuses the call
          log.warn("usage of key {} cannot be queued for Kafka now ({} failed so far): {}", event.getApiKeyId(),
              failed.incrementAndGet(), error.getMessage());
        } else if (kept != null && closing) {
          log.warn("usage event {} of key {} was not acknowledged before the reporter closed; it stays in the"
              + " spool for the next start", event.getEventId(), event.getApiKeyId());
        } else {
          log.error("usage event {} of key {} was not delivered ({} failed so far): {}", event.getEventId(),
              event.getApiKeyId(), failed.incrementAndGet(), error.getMessage());
          settle(kept);
        }
        acknowledged.completeExceptionally(new UsageReportingException("usage event " + event.getEventId()
            + " was not delivered: " + error.getMessage(), error));
      });
    } catch (KafkaException e) {
      failed.incrementAndGet();
      takeBack(kept, event);
      throw new UsageReportingException("cannot queue usage of key " + event.getApiKeyId()
          + " for Kafka within the configured time: " + e.getMessage(), e);
    }
    // No metadata within max.block.ms (brokers unreachable) fails the send before it returns.
    if (queued.isDone()) {
      try {
        queued.get();
      } catch (ExecutionException e) {
        takeBack(kept, event);
        throw new UsageReportingException("cannot queue usage of key " + event.getApiKeyId()
            + " for Kafka within the configured time: " + e.getCause().getMessage(), e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new UsageReportingException("interrupted while queueing usage of key " + event.getApiKeyId(), e);
      }
    }
    return acknowledged;
  }

  /** Writes the event to the spool, if there is one; a call whose usage cannot be kept is refused. */
  private UsageSpool.Entry keep(UsageEvent event, byte[] value) {
    if (spool == null) {
      return null;
    }
    try {
      return spool.append(event.getEventId(), event.getApiKeyId(), value);
    } catch (IOException e) {
      failed.incrementAndGet();
      throw new UsageReportingException("cannot write usage of key " + event.getApiKeyId() + " to the spool: "
          + e.getMessage(), e);
    }
  }

  private void settle(UsageSpool.Entry kept) {
    if (kept != null) {
      spool.settle(kept);
    }
  }

  /** The event was never queued and its call is refused: it must not be sent again from the spool. */
  private void takeBack(UsageSpool.Entry kept, UsageEvent event) {
    if (kept == null) {
      return;
    }
    try {
      spool.cancel(kept, event.getEventId());
    } catch (IOException e) {
      // sent again at the next start: usage of a refused call, the one case the spool counts too much
      log.error("cannot take usage event {} of a refused call back from the spool: {}", event.getEventId(),
          e.getMessage());
    }
  }

  /**
   * Sends what an earlier reporter on the spool left, waiting out brokers that cannot be reached,
   * and deletes it once every event is settled. Stopped by {@link #close()}, it stays for the next.
   */
  private void sendLeftovers() {
    try {
      List<UsageSpool.Spooled> leftovers = spool.leftovers();
      if (!leftovers.isEmpty()) {
        log.info("sending again {} usage events that an earlier reporter on this spool queued and may not have"
            + " delivered", leftovers.size());
      }
      List<CompletableFuture<Void>> settled = new ArrayList<>();
      for (UsageSpool.Spooled event : leftovers) {
        settled.add(queueLeftover(event));
      }
      for (CompletableFuture<Void> outcome : settled) {
        try {
          outcome.get();
        } catch (ExecutionException e) {
          if (closing) {
            return;
          }
          log.error("a usage event from the spool was not delivered ({} failed so far): {}", failed.incrementAndGet(),
              e.getCause().getMessage());
        }
      }
      spool.leftoversSettled();
      if (!leftovers.isEmpty()) {
        log.info("the {} usage events from the spool are settled", leftovers.size());
      }
    } catch (InterruptedException stopped) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      log.error("cannot read or clear the usage spool; what it holds stays for the next start", e);
    }
  }

  /** Queues one leftover event, trying again every second while the brokers cannot be reached. */
  private CompletableFuture<Void> queueLeftover(UsageSpool.Spooled event) throws InterruptedException {
    while (true) {
      if (closing) {
        throw new InterruptedException("closing");
      }
      CompletableFuture<Void> outcome = new CompletableFuture<>();
      try {
        Future<RecordMetadata> queued = producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), event.key(),
            event.value()), (metadata, error) -> {
              if (error == null) {
                sent.incrementAndGet();
                outcome.complete(null);
              } else {
                outcome.completeExceptionally(error);
              }
            });
        if (queued.isDone()) {
          queued.get();
        }
        return outcome;
      } catch (KafkaException | ExecutionException notQueued) {
        log.warn("cannot queue usage event {} from the spool yet ({}); trying again in a second", event.eventId(),
            notQueued.getMessage());
        Thread.sleep(1000);
      }
    }
  }

  /** Events the brokers acknowledged. */
  public long sent() {
    return sent.get();
  }

  /** Events that could not be queued or were not delivered. */
  public long failed() {
    return failed.get();
  }

  public void flush() {
    producer.flush();
  }

  /**
   * Flushes for up to 30 s. With a spool, what is still not acknowledged then stays in it for the
   * next reporter on the directory.
   */
  @Override
  public void close() {
    close(Duration.ofSeconds(30));
  }

  /** Flushes for up to {@code timeout}; see {@link #close()}. */
  public void close(Duration timeout) {
    closing = true;
    if (replay != null) {
      replay.interrupt();
    }
    producer.close(timeout);
    closeSpool();
  }

  private void closeSpool() {
    if (spool != null) {
      try {
        spool.close();
      } catch (IOException e) {
        log.error("cannot close the usage spool; what it holds stays for the next start", e);
      }
    }
  }
}
