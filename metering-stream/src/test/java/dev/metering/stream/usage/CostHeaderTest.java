package dev.metering.stream.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.records.UsageEvent;
import dev.metering.records.state.MonthState;
import dev.metering.schemas.Topics;
import dev.metering.stream.MeteringFixture;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An event is priced once: its organisation's task adds the cost its key task gave it, whatever
 * price book the organisation's task itself runs with.
 */
class CostHeaderTest {

  private static final String MONTH = "2026-11";

  private final MeteringFixture fx = new MeteringFixture(Map.of());

  @AfterEach
  void close() {
    fx.close();
  }

  @Test
  void shouldSendTheKeyTasksCostWithTheEventToItsOrganisation() {
    UsageEvent event = MeteringFixture.event("key-1", "2026-11-20T12:00:00Z", 123_457);
    var repartitioned = fx.driver.createOutputTopic(fx.config.applicationId() + "-usage-by-org-repartition",
        new StringDeserializer(), Topics.USAGE_EVENTS.valueSerde().deserializer());

    fx.send(event);

    TestRecord<String, UsageEvent> sent = repartitioned.readRecord();
    assertEquals(MeteringFixture.ORG, sent.key());
    long keyCost = fx.month("key-1", MONTH).getTotals().getCostMicros();
    assertTrue(keyCost > 0);
    assertEquals(keyCost, costIn(sent.headers().lastHeader(CostHeader.NAME)));
    assertEquals(keyCost, fx.orgMonth(MeteringFixture.ORG, MONTH).getTotals().getCostMicros());
  }

  @Test
  void shouldAddTheCostItsKeyTaskGaveAnEventNotWhatItsOwnPriceBookSays() {
    // a rolling deploy of a new pricing.json: the key task that priced this event ran the other book
    UsageEvent event = MeteringFixture.event("key-1", "2026-11-20T12:00:00Z", 1_000_000);
    long bookCost = PricedEvent.price(event, dev.metering.stream.pricing.PriceBook.bundled()).costMicros();
    long keyTaskCost = bookCost + 4_321;

    fx.orgPath.pipeInput(new TestRecord<>(MeteringFixture.ORG, event, new RecordHeaders(List.of(
        new RecordHeader(CostHeader.NAME, ByteBuffer.allocate(9).putLong(keyTaskCost).put((byte) 1).array()))),
        Instant.ofEpochMilli(event.getTimestamp())));

    MonthState org = fx.orgMonth(MeteringFixture.ORG, MONTH);
    assertEquals(keyTaskCost, org.getTotals().getCostMicros());
    assertEquals(1, org.getTotals().getFallbackPricedRequests(), "the key task's word on the price it used, too");
  }

  @Test
  void shouldPriceARecordFromBeforeCostsWereSentItself() {
    // an upgrade: records the previous version repartitioned carry no cost
    UsageEvent event = MeteringFixture.event("key-1", "2026-11-20T12:00:00Z", 1_000_000);

    fx.orgPath.pipeInput(MeteringFixture.ORG, event, Instant.ofEpochMilli(event.getTimestamp()));

    assertEquals(PricedEvent.price(event, dev.metering.stream.pricing.PriceBook.bundled()).costMicros(),
        fx.orgMonth(MeteringFixture.ORG, MONTH).getTotals().getCostMicros());
  }

  @Test
  void shouldPassOnNoneOfAGatewaysHeadersNorTakeACostOneWrote() {
    UsageEvent event = MeteringFixture.event("key-1", "2026-11-20T12:00:00Z", 1_000_000);
    RecordHeaders gateways = new RecordHeaders(List.of(new RecordHeader("trace", new byte[1000]),
        new RecordHeader(CostHeader.NAME, ByteBuffer.allocate(9).putLong(0).put((byte) 0).array())));
    var repartitioned = fx.driver.createOutputTopic(fx.config.applicationId() + "-usage-by-org-repartition",
        new StringDeserializer(), Topics.USAGE_EVENTS.valueSerde().deserializer());
    fx.putKey(MeteringFixture.key("key-1", 1_000L, true), "2026-11-01T00:00:00Z");

    fx.usage.pipeInput(new TestRecord<>(event.getApiKeyId(), Topics.USAGE_EVENTS.encode(event), gateways,
        Instant.ofEpochMilli(event.getTimestamp())));

    long keyCost = fx.month("key-1", MONTH).getTotals().getCostMicros();
    assertNotEquals(0, keyCost);
    assertEquals(keyCost, fx.orgMonth(MeteringFixture.ORG, MONTH).getTotals().getCostMicros());
    Header[] sent = repartitioned.readRecord().headers().toArray();
    assertEquals(1, sent.length, "the cost, and nothing of the gateway's");
    assertEquals(keyCost, costIn(sent[0]));
    var breach = fx.limitEvents.readRecord();
    assertEquals(0, breach.headers().toArray().length, "nor on the limit event the usage caused");
  }

  private static long costIn(Header header) {
    assertEquals(9, header.value().length);
    return ByteBuffer.wrap(header.value()).getLong();
  }
}
