package dev.metering.stream;

import dev.metering.kafka.TopicSetup;
import dev.metering.schemas.Topics;
import dev.metering.stream.rocksdb.BoundedMemoryRocksDBConfig;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;

/** The Kafka Streams properties of metering-stream, derived from its configuration. */
public final class StreamsSettings {

  /** Kafka Streams' own transaction timeout under exactly-once, kept for commit intervals up to a third of it. */
  static final Duration TRANSACTION_TIMEOUT_FLOOR = Duration.ofSeconds(10);

  private StreamsSettings() {
  }

  public static Properties of(MeteringConfig config) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.applicationId());
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, config.kafka().bootstrapServers());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, config.processingGuarantee());
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.streamThreads());
    props.put(StreamsConfig.STATE_DIR_CONFIG, config.stateDir().toString());
    props.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, config.standbyReplicas());
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.commitInterval().toMillis());
    // a transaction is open for about a commit interval; Kafka Streams' 10 s timeout would abort
    // (and refuse at start) any longer interval, so it follows a long one
    props.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG),
        (int) Math.max(TRANSACTION_TIMEOUT_FLOOR.toMillis(), 3 * config.commitInterval().toMillis()));
    props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) config.kafka().replicationFactor());
    // A task reads usage with api-keys and rules (or org-budgets) beside it. Idling (the default, 0)
    // holds usage back while a table partition is known to have records not yet fetched, and checks
    // that before every record, formatting a log line for each empty partition whether logged or not
    // (KAFKA-19682): 12-19% of the stream thread in profiles. Nothing here depends on that wait: a key,
    // rule or budget change re-judges the open months when it arrives (usage first, then the
    // configuration, gives the same limit events: ReplayEquivalenceIT's backfill), and buffered
    // records are still taken in timestamp order.
    props.put(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, StreamsConfig.MAX_TASK_IDLE_MS_DISABLED);
    // Kafka Streams' default unless configured: larger is faster, but see MeteringConfig.DEFAULT_STORE_CACHE_MB
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, config.storeCacheBytes());
    props.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, BoundedMemoryRocksDBConfig.class);
    props.put(BoundedMemoryRocksDBConfig.MEMORY_BYTES_CONFIG, config.rocksDbMemoryBytes());
    // usage-events never fails to deserialize (bad bytes become DecodedUsage.Undecodable and go to
    // the dead-letter topic with their reason); a corrupt api-keys or alert-rules record goes there
    // too, with Kafka's standard error headers, instead of stopping metering for every key.
    props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueExceptionHandler.class);
    props.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, Topics.USAGE_EVENTS_DLQ.name());
    props.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, ProductionFailures.class);
    props.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
    // a dead letter is the largest usage record plus its reason headers (see TopicSetup)
    props.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), TopicSetup.MAX_DEAD_LETTER_BYTES);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    props.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
    // Each stream thread's partition assignor builds a StreamsConfig from its consumer's settings,
    // which do not carry this streams-only flag: without it there, every thread logs a WARN that
    // the handler is off (Kafka 4.3.1, StreamsConfig's constructor).
    props.put(StreamsConfig.mainConsumerPrefix(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG), true);
    config.instanceId().ifPresent(id -> props.put(StreamsConfig.consumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), id));
    return props;
  }
}
