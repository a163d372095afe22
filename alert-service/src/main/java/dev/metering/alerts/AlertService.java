package dev.metering.alerts;

import dev.metering.alerts.decisions.RuleIndex;
import dev.metering.alerts.delivery.Channel;
import dev.metering.alerts.delivery.NotificationDispatcher;
import dev.metering.alerts.processing.AlertProcessor;
import dev.metering.kafka.TopicView;
import dev.metering.records.AlertRule;
import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.NotificationChannel;
import dev.metering.schemas.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

/**
 * alert-service: the transactional event processor, the notification dispatcher, and the views of
 * alert-rules and api-keys they read, each on its own thread.
 */
public final class AlertService implements AutoCloseable {

  private final TopicView<String, AlertRule> rules;
  private final TopicView<String, ApiKey> keys;
  private final AlertProcessor processor;
  private final NotificationDispatcher dispatcher;

  private AlertService(TopicView<String, AlertRule> rules, TopicView<String, ApiKey> keys, AlertProcessor processor,
      NotificationDispatcher dispatcher) {
    this.rules = rules;
    this.keys = keys;
    this.processor = processor;
    this.dispatcher = dispatcher;
  }

  public static AlertService start(AlertServiceConfig config, Clock clock) throws InterruptedException {
    return start(config, clock, NotificationDispatcher.standardChannels(config, clock));
  }

  /** Starts with the given channels; waits until the alert rules are loaded before processing events. */
  public static AlertService start(AlertServiceConfig config, Clock clock, Map<NotificationChannel, Channel> channels)
      throws InterruptedException {
    TopicView<String, AlertRule> rules = TopicView.start(config.kafka().bootstrapServers(), Topics.ALERT_RULES.name(),
        Topics.ALERT_RULES.keySerde().deserializer(), Topics.ALERT_RULES.valueSerde().deserializer(), null);
    rules.awaitCaughtUp(Duration.ofSeconds(60));
    TopicView<String, ApiKey> keys = TopicView.start(config.kafka().bootstrapServers(), Topics.API_KEYS.name(),
        Topics.API_KEYS.keySerde().deserializer(), Topics.API_KEYS.valueSerde().deserializer(), null);
    keys.awaitCaughtUp(Duration.ofSeconds(60));
    AlertProcessor processor = new AlertProcessor(config, clock, new RuleIndex(rules::values), apiKeyId -> {
      ApiKey key = keys.get(apiKeyId);
      return key != null && key.getStatus() == ApiKeyStatus.REVOKED;
    });
    NotificationDispatcher dispatcher = new NotificationDispatcher(config, channels, clock);
    start(processor, "alert-processor");
    start(dispatcher, "notification-dispatcher");
    return new AlertService(rules, keys, processor, dispatcher);
  }

  public AlertProcessor processor() {
    return processor;
  }

  /** Blocks until the event processor stopped; returns why it stopped on its own, or null. */
  public Throwable awaitStopped() throws InterruptedException {
    processor.awaitStopped();
    return processor.failure();
  }

  @Override
  public void close() {
    processor.close();
    dispatcher.close();
    rules.close();
    keys.close();
  }

  private static void start(Runnable runnable, String name) {
    Thread thread = new Thread(runnable, name);
    thread.start();
  }
}
