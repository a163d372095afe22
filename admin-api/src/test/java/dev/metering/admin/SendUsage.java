package dev.metering.admin;

import dev.metering.kafka.KafkaTestSupport;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Sends sample usage events for one key, for trying the API by hand: {@code bootstrap org key calls}. */
public final class SendUsage {

  private SendUsage() {
  }

  public static void main(String[] args) {
    String bootstrap = args[0];
    String org = args[1];
    String key = args[2];
    int calls = Integer.parseInt(args[3]);
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(bootstrap)) {
      for (int i = 0; i < calls; i++) {
        UsageEvent event = UsageEvent.newBuilder().setEventId(UUID.randomUUID().toString()).setOrgId(org)
            .setApiKeyId(key).setModel(i % 3 == 0 ? "claude-haiku-4-5" : "claude-sonnet-4-5")
            .setInputTokens(1200).setOutputTokens(300).setCacheCreationInputTokens(0).setCacheReadInputTokens(500)
            .setTimestamp(System.currentTimeMillis()).setGatewayId("readme").build();
        producer.send(new ProducerRecord<>(Topics.USAGE_EVENTS.name(), key,
            Topics.USAGE_EVENTS.valueSerde().serializer().serialize(Topics.USAGE_EVENTS.name(), event)));
      }
    }
    System.out.println("sent " + calls + " usage events for " + key);
  }
}
