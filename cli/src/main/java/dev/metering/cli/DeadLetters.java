package dev.metering.cli;

import dev.metering.records.UsageEvent;
import dev.metering.schemas.DeadLetterHeaders;
import dev.metering.schemas.Topics;
import dev.metering.schemas.UsageLimits;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.apache.avro.Schema;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * usage-events-dlq as the operator sees it: every record read once from the start up to the
 * last committed offset (nothing is committed: reading never moves a consumer group), and the
 * re-sending of chosen records to usage-events.
 */
final class DeadLetters implements AutoCloseable {

  /** Marks a record re-sent from the dead-letter topic: {@code usage-events-dlq/<partition>/<offset>}. */
  static final String REPLAYED_FROM = "dlq.replayed.from";
  private static final String DLQ = Topics.USAGE_EVENTS_DLQ.name();
  /** The reason of a dead letter whose event_id was counted before with other usage (metering-stream's RejectReason). */
  static final String CONFLICTING = "CONFLICTING_DUPLICATE";
  /** How a row begins whose record Kafka refused. */
  static final String NOT_SENT = "not replayed: ";
  private static final String NOT_REKEYED = NOT_SENT + "not a usage event, so no api_key_id to key it by";
  private static final String NOT_RENAMED = NOT_SENT + "only a " + CONFLICTING + " gets an event_id of its own:"
      + " another record's event may be counted under its own id already, and would be counted twice";

  private final String bootstrapServers;
  private final KafkaConsumer<byte[], byte[]> consumer;

  DeadLetters(String bootstrapServers) {
    this.bootstrapServers = bootstrapServers;
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 15_000);
    this.consumer = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /** One dead-lettered record, its reason headers and, if it decodes, the usage event it holds. */
  record DeadLetter(int partition, long offset, Instant timestamp, String key, String reason, String message,
      String exception, String source, Map<String, Object> event, String valueBase64) {
  }

  /** Hands every record now on the topic to {@code visitor}, oldest first per partition. */
  void forEach(Consumer<ConsumerRecord<byte[], byte[]>> visitor) {
    List<TopicPartition> partitions = consumer.partitionsFor(DLQ).stream()
        .map(p -> new TopicPartition(DLQ, p.partition())).toList();
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions));
    end.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
    while (!end.isEmpty()) {
      for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        if (end.containsKey(tp) && record.offset() < end.get(tp)) {
          visitor.accept(record);
        }
      }
      end.entrySet().removeIf(e -> consumer.position(e.getKey()) >= e.getValue());
    }
  }

  static String header(ConsumerRecord<?, ?> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  static DeadLetter view(ConsumerRecord<byte[], byte[]> record) {
    String source = header(record, DeadLetterHeaders.SOURCE_TOPIC) == null ? null
        : header(record, DeadLetterHeaders.SOURCE_TOPIC) + "/" + header(record, DeadLetterHeaders.SOURCE_PARTITION)
            + "/" + header(record, DeadLetterHeaders.SOURCE_OFFSET);
    Map<String, Object> event = decode(record.value());
    return new DeadLetter(record.partition(), record.offset(), Instant.ofEpochMilli(record.timestamp()),
        text(record.key()), header(record, DeadLetterHeaders.REASON), header(record, DeadLetterHeaders.MESSAGE),
        header(record, DeadLetterHeaders.EXCEPTION), source, event,
        event == null && record.value() != null ? Base64.getEncoder().encodeToString(record.value()) : null);
  }

  /** The usage event's fields, or null when the bytes are not a UsageEvent of a known schema. */
  private static Map<String, Object> decode(byte[] value) {
    if (value == null) {
      return null;
    }
    try {
      UsageEvent event = Topics.USAGE_EVENTS.decode(value);
      Map<String, Object> fields = new LinkedHashMap<>();
      for (Schema.Field field : event.getSchema().getFields()) {
        Object v = event.get(field.pos());
        fields.put(field.name(), v instanceof CharSequence cs ? cs.toString() : v);
      }
      return fields;
    } catch (RuntimeException undecodable) {
      return null;
    }
  }

  /** A key as text when it is UTF-8, else base64 (a hostile producer may send any bytes). */
  private static String text(byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      return "base64:" + Base64.getEncoder().encodeToString(bytes);
    }
  }

  private record Pending(Replayed row, Future<RecordMetadata> sent) {
  }

  /** Where a replayed record went. */
  record Replayed(int dlqPartition, long dlqOffset, String eventId, String reason, String status,
      Integer partition, Long offset) {

    /** The row of {@code record}: {@code sentTo} is where it went on usage-events, null when it was not sent. */
    static Replayed of(ConsumerRecord<byte[], byte[]> record, Map<String, Object> event, String status,
        RecordMetadata sentTo) {
      return new Replayed(record.partition(), record.offset(), event == null ? null : (String) event.get("event_id"),
          header(record, DeadLetterHeaders.REASON), status, sentTo == null ? null : sentTo.partition(),
          sentTo == null ? null : sentTo.offset());
    }
  }

  /**
   * Starts re-sending chosen records to usage-events, each with its original key (or, with
   * {@code rekey}, its event's api_key_id) and bytes, without the dlq headers and with
   * {@link #REPLAYED_FROM}; the event id is unchanged, so metering counts an event replayed twice
   * (or one that was counted meanwhile) once. With {@code ownEventId} each event is sent under
   * {@link #ownEventId} instead, still the same on every replay of the record. With {@code dryRun}
   * nothing is sent and each row says what would be.
   */
  Replay replay(boolean rekey, boolean ownEventId, boolean dryRun) {
    return new Replay(rekey, ownEventId, dryRun);
  }

  /**
   * An event_id of the dead letter's own, {@code dlq-<partition>-<offset>-<its event_id>}, cut to
   * the longest id usage-events takes: unique among dead letters, and the same each time the
   * record is replayed, so replaying it twice still counts it once.
   */
  static String ownEventId(int partition, long offset, String eventId) {
    String id = "dlq-" + partition + "-" + offset + "-" + eventId;
    int end = Math.min(id.length(), UsageLimits.MAX_FIELD_LENGTH);
    // never cut between the two halves of a character outside the BMP
    return id.substring(0, Character.isHighSurrogate(id.charAt(end - 1)) ? end - 1 : end);
  }

  /**
   * One replay: each record is sent as it is handed over, and only its row is kept (the producer's
   * buffer bounds the bytes under way), so a dead-letter topic of any size replays in bounded memory.
   */
  final class Replay implements AutoCloseable {
    private final boolean rekey;
    private final boolean ownEventId;
    private final KafkaProducer<byte[], byte[]> producer;
    /** Each record's row, and where it is being sent (null when it is not). */
    private final List<Pending> pending = new ArrayList<>();
    private int refused;

    private Replay(boolean rekey, boolean ownEventId, boolean dryRun) {
      this.rekey = rekey;
      this.ownEventId = ownEventId;
      if (dryRun) {
        this.producer = null;
        return;
      }
      Properties props = new Properties();
      props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      props.put(ProducerConfig.ACKS_CONFIG, "all");
      props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
      props.put(ProducerConfig.CLIENT_ID_CONFIG, "metering-cli-dlq-replay");
      this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    void add(ConsumerRecord<byte[], byte[]> record) {
      Map<String, Object> event = decode(record.value());
      byte[] key = !rekey ? record.key()
          : event == null ? null : event.get("api_key_id").toString().getBytes(StandardCharsets.UTF_8);
      boolean renamed = ownEventId && event != null && CONFLICTING.equals(header(record, DeadLetterHeaders.REASON));
      String newId = renamed ? ownEventId(record.partition(), record.offset(), event.get("event_id").toString()) : null;
      boolean refusedHere = rekey && key == null || ownEventId && !renamed;
      String status = refusedHere ? (rekey && key == null ? NOT_REKEYED : NOT_RENAMED)
          : (producer == null ? "would replay" : "replayed") + (rekey ? " keyed by its api_key_id" : "")
              + (newId != null ? " as event_id " + newId : "");
      Replayed row = Replayed.of(record, event, status, null);
      if (producer == null || refusedHere) {
        pending.add(new Pending(row, null));
        return;
      }
      byte[] value = newId == null ? record.value()
          : Topics.USAGE_EVENTS.encode(UsageEvent.newBuilder(Topics.USAGE_EVENTS.decode(record.value())).setEventId(newId)
              .build());
      RecordHeaders headers = new RecordHeaders();
      for (Header header : record.headers()) {
        if (!header.key().startsWith("dlq.")) {
          headers.add(header);
        }
      }
      headers.add(REPLAYED_FROM, (DLQ + "/" + record.partition() + "/" + record.offset())
          .getBytes(StandardCharsets.UTF_8));
      pending.add(new Pending(row,
          producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), null, key, value, headers))));
    }

    /**
     * Waits until every record sent is answered; each row then says where it went, or why it was
     * not replayed (a record larger than usage-events takes). Kafka not answering at all is thrown.
     */
    List<Replayed> finish() throws Exception {
      if (producer != null) {
        producer.flush();
      }
      List<Replayed> done = new ArrayList<>(pending.size());
      for (Pending each : pending) {
        Replayed row = each.row();
        if (each.sent() == null) {
          done.add(row);
          continue;
        }
        try {
          RecordMetadata to = each.sent().get();
          done.add(new Replayed(row.dlqPartition(), row.dlqOffset(), row.eventId(), row.reason(), row.status(),
              to.partition(), to.offset()));
        } catch (ExecutionException e) {
          if (e.getCause() instanceof RetriableException unavailable) {
            throw unavailable;
          }
          refused++;
          done.add(new Replayed(row.dlqPartition(), row.dlqOffset(), row.eventId(), row.reason(),
              NOT_SENT + e.getCause().getMessage(), null, null));
        }
      }
      return done;
    }

    /** How many records Kafka refused, once {@link #finish()} has returned. */
    int refused() {
      return refused;
    }

    @Override
    public void close() {
      if (producer != null) {
        producer.close();
      }
    }
  }

  @Override
  public void close() {
    consumer.close();
  }
}
