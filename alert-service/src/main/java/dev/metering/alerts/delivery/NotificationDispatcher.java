package dev.metering.alerts.delivery;

import dev.metering.schemas.AuditEventType;
import dev.metering.metrics.ServiceMetrics;
import dev.metering.alerts.AlertServiceConfig;
import dev.metering.alerts.decisions.AlertDecisions;
import dev.metering.records.AuditRecord;
import dev.metering.records.Notification;
import dev.metering.records.NotificationChannel;
import dev.metering.schemas.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers the notifications outbox (read_committed, so only notifications of committed
 * transactions go out). Each channel works on its own (email on its own threads, webhooks
 * asynchronously) and retries with backoff are scheduled, never slept, so a slow or dead
 * endpoint holds back nothing else. Deliveries are fair: one organisation has at most
 * {@code ALERT_MAX_IN_FLIGHT_PER_ORG} under way, and one of its targets a quarter of that; the
 * rest of its notifications wait here, in order, while other organisations' go out. Offsets are
 * committed below the oldest delivery in flight or waiting:
 * delivery is at-least-once, and a repeat carries the same notification id. Every final outcome
 * is an audit record, alert_delivered or alert_delivery_failed, and a delivery counts as done
 * only once its record is written.
 */
public final class NotificationDispatcher implements Runnable, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(NotificationDispatcher.class);
  /** Notifications read but not yet delivered (in flight or waiting), beyond which reading pauses. */
  private static final int MAX_OUTSTANDING = 10_000;

  private final AlertServiceConfig config;
  private final Map<NotificationChannel, Channel> channels;
  private final Backoff backoff;
  private final Clock clock;
  private final KafkaConsumer<String, byte[]> consumer;
  private final KafkaProducer<String, byte[]> audit;
  private final OffsetTracker offsets = new OffsetTracker();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running = true;
  private volatile Throwable failure;
  private final MeterRegistry metrics;
  private final int maxPerOrg;
  private final int maxPerTarget;
  /** Guarded by itself: deliveries under way per org and per org|target, and what waits per org. */
  private final Map<String, Integer> inFlight = new java.util.HashMap<>();
  private final Map<String, java.util.ArrayDeque<Waiting>> waiting = new java.util.LinkedHashMap<>();

  private record Waiting(TopicPartition partition, long offset, Channel channel, Notification notification) {
  }

  public NotificationDispatcher(AlertServiceConfig config, Map<NotificationChannel, Channel> channels, Clock clock,
      MeterRegistry metrics) {
    this.metrics = metrics;
    // registered up front, so dashboards see every series from the start, at zero
    for (NotificationChannel channel : channels.keySet()) {
      String name = channel.name().toLowerCase(java.util.Locale.ROOT);
      for (String outcome : List.of("delivered", "failed")) {
        metrics.counter("alert.deliveries", "channel", name, "outcome", outcome);
      }
      metrics.counter("alert.delivery.retries", "channel", name);
      deliveryLatency(name);
    }
    metrics.counter("alert.audit.write.failures");
    this.config = config;
    this.channels = Map.copyOf(channels);
    this.backoff = new Backoff(config.initialBackoff(), config.maxBackoff());
    this.maxPerOrg = config.maxInFlightPerOrg();
    this.maxPerTarget = Math.max(1, config.maxInFlightPerOrg() / 4);
    this.clock = clock;
    Properties consumerProps = new Properties();
    consumerProps.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers());
    consumerProps.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId() + "-dispatcher");
    consumerProps.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, config.instanceId() + "-dispatcher");
    consumerProps.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    consumerProps.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    consumerProps.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    consumerProps.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 100);
    this.consumer = new KafkaConsumer<>(consumerProps, new StringDeserializer(),
        new org.apache.kafka.common.serialization.ByteArrayDeserializer());
    Properties producerProps = new Properties();
    producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers());
    producerProps.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    producerProps.put(ProducerConfig.ACKS_CONFIG, "all");
    this.audit = new KafkaProducer<>(producerProps, new StringSerializer(),
        new org.apache.kafka.common.serialization.ByteArraySerializer());
  }

  /** The standard channels: SMTP email and webhooks signed with each rule's secret. */
  public static Map<NotificationChannel, Channel> standardChannels(AlertServiceConfig config, Clock clock) {
    return Map.of(
        NotificationChannel.EMAIL, new EmailChannel(config.smtp()),
        NotificationChannel.WEBHOOK, new WebhookChannel(config.webhookSigning(), config.webhookTargets(),
            config.webhookTimeout(), clock));
  }

  @Override
  public void run() {
    try {
      consumer.subscribe(List.of(Topics.NOTIFICATIONS.name()), new ConsumerRebalanceListener() {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
          commit();
          offsets.forget(partitions);
          synchronized (inFlight) {
            // their new owner delivers them from the committed offsets
            waiting.values().forEach(queue -> queue.removeIf(w -> partitions.contains(w.partition())));
          }
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
          // deliveries start from the committed offsets
        }
      });
      while (running) {
        for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          dispatch(record);
        }
        startWaiting();
        applyBackpressure();
        commit();
      }
    } catch (WakeupException closing) {
      // close() was called
    } catch (RuntimeException e) {
      failure = e;
      log.error("notification dispatcher stopping after an unexpected error", e);
    } finally {
      commit();
      consumer.close(org.apache.kafka.clients.consumer.CloseOptions.timeout(Duration.ofSeconds(5)));
      audit.close(Duration.ofSeconds(10));
      stopped.countDown();
    }
  }

  private void dispatch(ConsumerRecord<String, byte[]> record) {
    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
    Notification notification;
    try {
      notification = Topics.NOTIFICATIONS.decode(record.value());
    } catch (SerializationException e) {
      ServiceMetrics.unreadable("alert-dispatcher", record, e);
      return;
    }
    Channel channel = notification == null ? null : channels.get(notification.getChannel());
    if (channel == null) {
      return;
    }
    offsets.started(partition, record.offset());
    Waiting delivery = new Waiting(partition, record.offset(), channel, notification);
    synchronized (inFlight) {
      java.util.ArrayDeque<Waiting> queue = waiting.get(notification.getOrgId());
      if (queue != null || !mayStart(notification)) {
        waiting.computeIfAbsent(notification.getOrgId(), org -> new java.util.ArrayDeque<>()).add(delivery);
        return;
      }
      started(notification, 1);
    }
    start(delivery);
  }

  /** Whether the org, and the target, have room for one more delivery; called holding the lock. */
  private boolean mayStart(Notification notification) {
    return inFlight.getOrDefault(notification.getOrgId(), 0) < maxPerOrg
        && inFlight.getOrDefault(targetKey(notification), 0) < maxPerTarget;
  }

  private void started(Notification notification, int delta) {
    inFlight.merge(notification.getOrgId(), delta, (a, b) -> a + b == 0 ? null : a + b);
    inFlight.merge(targetKey(notification), delta, (a, b) -> a + b == 0 ? null : a + b);
  }

  private static String targetKey(Notification notification) {
    return notification.getOrgId() + "|" + notification.getTarget();
  }

  /** Starts waiting deliveries that now have room, each org's in order. */
  private void startWaiting() {
    List<Waiting> ready = new java.util.ArrayList<>();
    synchronized (inFlight) {
      for (var it = waiting.values().iterator(); it.hasNext(); ) {
        java.util.ArrayDeque<Waiting> queue = it.next();
        while (!queue.isEmpty() && mayStart(queue.peek().notification())) {
          Waiting next = queue.poll();
          started(next.notification(), 1);
          ready.add(next);
        }
        if (queue.isEmpty()) {
          it.remove();
        }
      }
    }
    ready.forEach(this::start);
  }

  private void start(Waiting delivery) {
    Notification notification = delivery.notification();
    deliver(delivery.channel(), notification, 1)
        .thenApply(attempt -> attempt != null)
        .exceptionallyCompose(error -> {
          if (!running) {
            return CompletableFuture.completedFuture(false);
          }
          log.error("delivery of notification {} failed unexpectedly", notification.getId(), error);
          return record(notification, new Attempt.Failed("internal error: " + error.getMessage()), 0);
        })
        .whenComplete((finished, error) -> {
          synchronized (inFlight) {
            started(notification, -1);
          }
          // not finished: cut short by a stop (no outcome, a channel already closed, or its audit
          // record not yet written), so its offset stays uncommitted for whoever reads it next
          if (error == null && finished) {
            offsets.done(delivery.partition(), delivery.offset());
          }
        });
  }

  /** Notifications read and not yet finished: under way or waiting for room. */
  public int outstanding() {
    return offsets.inFlight();
  }

  /** Deliveries under way per org right now (for tests and metrics). */
  public int inFlight(String orgId) {
    synchronized (inFlight) {
      return inFlight.getOrDefault(orgId, 0);
    }
  }

  /**
   * Attempts delivery until it succeeds, fails for good, or runs out of attempts; records the
   * outcome and completes once its audit record is written. Once the dispatcher stops, a delivery
   * that has not reached its outcome, or whose audit record is not written yet, is left, with no
   * outcome (null) and its offset uncommitted, for whichever instance reads the partition next:
   * a stop is not a failure to deliver.
   */
  private CompletableFuture<Attempt> deliver(Channel channel, Notification notification, int attempt) {
    if (!running) {
      return CompletableFuture.completedFuture(null);
    }
    return channel.send(notification).thenCompose(result -> {
      if (result instanceof Attempt.Retry && !running) {
        return CompletableFuture.completedFuture(null);
      }
      if (result instanceof Attempt.Retry retry && attempt < config.maxAttempts()) {
        Duration wait = backoff.before(attempt + 1, retry.after().orElse(null));
        metrics.counter("alert.delivery.retries", "channel", channelName(notification)).increment();
        log.warn("notification {} to {} attempt {} failed ({}); retrying in {} ms", notification.getId(),
            redact(notification), attempt, retry.detail(), wait.toMillis());
        return after(wait).thenCompose(ignored -> deliver(channel, notification, attempt + 1));
      }
      return record(notification, result, attempt).thenApply(written -> written ? result : null);
    });
  }

  private Timer deliveryLatency(String channel) {
    return Timer.builder("alert.delivery.latency").description("From the decision that made a notification to its"
        + " final outcome").tag("channel", channel).publishPercentileHistogram().register(metrics);
  }

  private static String channelName(Notification notification) {
    return notification.getChannel().name().toLowerCase(java.util.Locale.ROOT);
  }

  /**
   * Counts and logs the outcome and writes its audit record; completes with true once the record is
   * written, or false if the dispatcher stopped before it could be.
   */
  private CompletableFuture<Boolean> record(Notification notification, Attempt result, int attempts) {
    boolean delivered = result instanceof Attempt.Delivered;
    metrics.counter("alert.deliveries", "channel", channelName(notification), "outcome",
        delivered ? "delivered" : "failed").increment();
    // from the decision that made the notification to its final outcome, retries included
    deliveryLatency(channelName(notification))
        .record(Math.max(0, clock.millis() - notification.getCreatedAt()), TimeUnit.MILLISECONDS);
    String type = (delivered ? AuditEventType.ALERT_DELIVERED : AuditEventType.ALERT_DELIVERY_FAILED).wireName();
    String description = notification.getChannel().name().toLowerCase(java.util.Locale.ROOT) + " notification to "
        + redact(notification) + (delivered ? " delivered" : " not delivered") + " after " + attempts
        + (attempts == 1 ? " attempt" : " attempts") + ": " + result.detail();
    if (delivered) {
      log.info("{} ({})", description, notification.getId());
    } else {
      log.error("{} ({})", description, notification.getId());
    }
    AuditRecord record = AuditRecord.newBuilder()
        .setId("aud_" + AlertDecisions.hash(notification.getId() + "|" + type))
        .setOrgId(notification.getOrgId())
        .setTimestamp(clock.millis())
        .setEventType(type)
        .setActor(AlertDecisions.ACTOR)
        .setApiKeyId(notification.getApiKeyId())
        .setDescription(description)
        .setDetails(Map.of("notification_id", notification.getId(), "channel", notification.getChannel().name(),
            "target", redact(notification), "attempts", Integer.toString(attempts), "cause", notification.getCause()))
        .build();
    return audited(notification.getId(), record, 1);
  }

  /**
   * Writes an audit record, trying again with backoff for as long as the dispatcher runs: the
   * delivery's offset is committed only after it, so an outcome is never left unaudited, and the
   * notification is not sent again meanwhile (the producer has already retried what it could).
   * Each attempt stamps the record with the time it is sent, so its timestamp stays within the
   * producer's delivery timeout of its place in audit-log, on which admin-api's reads of a time
   * range rely (they stop 5 minutes past its end): the time of a first attempt, kept through an
   * outage of minutes, left the record out of the reads of the range it claims to be in.
   */
  private CompletableFuture<Boolean> audited(String notificationId, AuditRecord outcome, int attempt) {
    CompletableFuture<Boolean> written = new CompletableFuture<>();
    AuditRecord record = AuditRecord.newBuilder(outcome).setTimestamp(clock.millis()).build();
    try {
      audit.send(new ProducerRecord<>(Topics.AUDIT_LOG.name(), record.getOrgId(), Topics.AUDIT_LOG.encode(record)),
          (metadata, error) -> {
            if (error == null) {
              written.complete(true);
            } else {
              written.completeExceptionally(error);
            }
          });
    } catch (RuntimeException e) {
      written.completeExceptionally(e);
    }
    return written.exceptionallyCompose(error -> {
      if (!running) {
        return CompletableFuture.completedFuture(false);
      }
      metrics.counter("alert.audit.write.failures").increment();
      Duration wait = backoff.before(attempt + 1, null);
      log.error("cannot write the audit record of notification {} ({}); trying again in {} ms, its offset stays"
          + " uncommitted meanwhile", notificationId, error.getMessage(), wait.toMillis());
      return after(wait).thenCompose(ignored -> audited(notificationId, outcome, attempt + 1));
    });
  }

  /** Completes once {@code wait} has passed, without holding a thread meanwhile. */
  private static CompletableFuture<Void> after(Duration wait) {
    return CompletableFuture.runAsync(() -> { },
        CompletableFuture.delayedExecutor(wait.toMillis(), TimeUnit.MILLISECONDS));
  }

  /** Webhook URLs often carry a secret in their path or query: only scheme and host are shown. */
  static String redact(Notification notification) {
    if (notification.getChannel() == NotificationChannel.EMAIL) {
      return notification.getTarget();
    }
    try {
      URI uri = URI.create(notification.getTarget());
      return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() > 0 ? ":" + uri.getPort() : "") + "/...";
    } catch (IllegalArgumentException e) {
      return "(invalid URL)";
    }
  }

  private void applyBackpressure() {
    int outstanding = offsets.inFlight();
    if (outstanding >= MAX_OUTSTANDING) {
      consumer.pause(consumer.assignment());
    } else if (outstanding < MAX_OUTSTANDING / 2 && !consumer.paused().isEmpty()) {
      consumer.resume(consumer.paused());
    }
  }

  private void commit() {
    Map<TopicPartition, org.apache.kafka.clients.consumer.OffsetAndMetadata> committable = offsets.committable();
    committable.keySet().retainAll(consumer.assignment());
    if (!committable.isEmpty()) {
      try {
        consumer.commitSync(committable);
      } catch (RuntimeException e) {
        log.warn("cannot commit delivery offsets now: {}", e.getMessage());
      }
    }
  }

  /** Why {@link #run} stopped on its own, or null. */
  public Throwable failure() {
    return failure;
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      stopped.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    channels.values().forEach(Channel::close);
  }
}
