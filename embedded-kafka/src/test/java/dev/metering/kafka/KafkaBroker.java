package dev.metering.kafka;

import java.util.Map;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One in-JVM broker per test class, with every topic of the contract, started before the class's
 * own {@code @BeforeAll} methods and stopped after its {@code @AfterAll} methods:
 * {@code @RegisterExtension static final KafkaBroker kafka = new KafkaBroker(3);}
 */
public final class KafkaBroker implements BeforeAllCallback, AfterAllCallback {

  private final int partitions;
  private final Map<String, String> brokerConfig;
  private EmbeddedKafka kafka;

  public KafkaBroker(int partitions) {
    this(partitions, Map.of());
  }

  /** A broker whose single-broker defaults are overridden or extended by {@code brokerConfig}. */
  public KafkaBroker(int partitions, Map<String, String> brokerConfig) {
    this.partitions = partitions;
    this.brokerConfig = Map.copyOf(brokerConfig);
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    kafka = KafkaTestSupport.brokerWithTopics(partitions, brokerConfig);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (kafka != null) {
      kafka.close();
      kafka = null;
    }
  }

  public String bootstrapServers() {
    return kafka.bootstrapServers();
  }
}
