package dev.metering.admin;

import dev.metering.records.AuditRecord;
import dev.metering.schemas.Topics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Writes one change of the control plane (an api-keys or alert-rules record) together with its
 * audit records in one Kafka transaction: a change is never visible without its audit trail,
 * nor the trail without the change.
 */
public final class ChangeWriter implements AutoCloseable {

  private final KafkaProducer<byte[], byte[]> producer;
  /** Per audit-log partition, the offset of the last audit record this writer committed. */
  private final Map<Integer, Long> auditWritten = new ConcurrentHashMap<>();

  public ChangeWriter(String bootstrapServers, String transactionalId) {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000);
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
    this.producer = new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    this.producer.initTransactions();
  }

  /**
   * Writes {@code value} (null: a tombstone) under {@code key} to {@code topic} and the audit
   * records; returns the offset of the change once the transaction is committed.
   */
  public synchronized long write(String topic, String key, byte[] value, List<AuditRecord> audits) {
    producer.beginTransaction();
    try {
      Future<RecordMetadata> change = producer.send(new ProducerRecord<>(topic, bytes(key), value));
      List<Future<RecordMetadata>> trail = new ArrayList<>();
      for (AuditRecord audit : audits) {
        trail.add(producer.send(new ProducerRecord<>(Topics.AUDIT_LOG.name(), bytes(audit.getOrgId()),
            Topics.AUDIT_LOG.valueSerde().serializer().serialize(Topics.AUDIT_LOG.name(), audit))));
      }
      producer.commitTransaction();
      for (Future<RecordMetadata> written : trail) {
        auditWritten.merge(written.get().partition(), written.get().offset(), Math::max);
      }
      return change.get().offset();
    } catch (KafkaException e) {
      producer.abortTransaction();
      throw new IllegalStateException("cannot write the change: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while writing a change", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot write the change: " + e.getCause().getMessage(), e.getCause());
    }
  }

  /** The offset of the last audit record this writer committed to audit-log {@code partition}, or -1. */
  public long auditWrittenThrough(int partition) {
    return auditWritten.getOrDefault(partition, -1L);
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(10));
  }
}
