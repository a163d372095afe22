package dev.metering.kafka;

import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * How the services' transactional producers are configured. Their transactions last
 * milliseconds (one batch of limit events, or one control-plane change with its audit records),
 * but one left open by an instance that died inside it holds every read_committed reader of the
 * partitions it wrote: gateways' view of suspensions, the next owner's key-status load, audit
 * reads. The broker aborts it only once its timeout has passed (it looks every
 * {@code transaction.abort.timed.out.transaction.cleanup.interval.ms}, 10 s by default), and the
 * producer's default timeout is a minute: here it is Kafka Streams' own, 10 s.
 */
public final class Transactions {

  /** The transaction timeout of alert-service and admin-api (metering-stream's follows its commit interval). */
  public static final Duration TIMEOUT = Duration.ofSeconds(10);

  private Transactions() {
  }

  /** Makes {@code props} those of an idempotent transactional producer with {@code transactionalId}. */
  public static Properties transactional(Properties props, String transactionalId) {
    props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) TIMEOUT.toMillis());
    return props;
  }
}
