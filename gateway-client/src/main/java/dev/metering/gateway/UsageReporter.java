package dev.metering.gateway;

import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import dev.metering.schemas.UsageLimits;
import java.time.Clock;
import java.time.Duration;
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
 * is buffered.
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

  /**
   * @param failFastAfter the longest {@link #record} may wait for metadata or buffer space
   * @param bufferBytes the memory for events not yet sent
   */
  public UsageReporter(String bootstrapServers, String gatewayId, Duration failFastAfter, long bufferBytes, Clock clock) {
    this(producerSettings(bootstrapServers, failFastAfter, bufferBytes), gatewayId, clock);
  }

  /** A reporter whose producer has these settings (tests change one of {@link #producerSettings}). */
  UsageReporter(Properties settings, String gatewayId, Clock clock) {
    this.gatewayId = Objects.requireNonNull(gatewayId, "gatewayId");
    this.clock = clock;
    this.producer = new KafkaProducer<>(settings, new StringSerializer(), new ByteArraySerializer());
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
    CompletableFuture<String> acknowledged = new CompletableFuture<>();
    Future<RecordMetadata> queued;
    Thread caller = Thread.currentThread();
    try {
      queued = producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), event.getApiKeyId(), value), (metadata, error) -> {
        if (error == null) {
          sent.incrementAndGet();
          acknowledged.complete(event.getEventId());
        } else {
          long failures = failed.incrementAndGet();
          if (Thread.currentThread() == caller) {
            // never queued (no metadata in time): the caller is told below, and refuses the call
            log.warn("usage of key {} cannot be queued for Kafka now ({} failed so far): {}", event.getApiKeyId(),
                failures, error.getMessage());
          } else {
            log.error("usage event {} of key {} was not delivered ({} failed so far): {}", event.getEventId(),
                event.getApiKeyId(), failures, error.getMessage());
          }
          acknowledged.completeExceptionally(new UsageReportingException("usage event " + event.getEventId()
              + " was not delivered: " + error.getMessage(), error));
        }
      });
    } catch (KafkaException e) {
      failed.incrementAndGet();
      throw new UsageReportingException("cannot queue usage of key " + event.getApiKeyId()
          + " for Kafka within the configured time: " + e.getMessage(), e);
    }
    // No metadata within max.block.ms (brokers unreachable) fails the send before it returns.
    if (queued.isDone()) {
      try {
        queued.get();
      } catch (ExecutionException e) {
        throw new UsageReportingException("cannot queue usage of key " + event.getApiKeyId()
            + " for Kafka within the configured time: " + e.getCause().getMessage(), e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new UsageReportingException("interrupted while queueing usage of key " + event.getApiKeyId(), e);
      }
    }
    return acknowledged;
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

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(30));
  }
}
