package dev.metering.stream.usage;

import dev.metering.records.UsageEvent;
import dev.metering.stream.pricing.PriceBook;
import java.nio.ByteBuffer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * An event's cost as its key task priced it, carried to its organisation's task in a header of the
 * usage-by-org repartition record, so both add the same micro-dollars. Priced in each task, they
 * could differ: during a rolling deploy of a new pricing.json (a model just listed, a corrected
 * price) the two tasks of one event may run on instances with different price books, and every
 * event in flight between them would then cost one amount in its key's totals and another in its
 * organisation's (its budget, its report by key).
 */
final class CostHeader {

  /** Header name; a repartition record carries no other header (ingest passes on none of a gateway's). */
  static final String NAME = "metering.cost";

  private static final int LENGTH = Long.BYTES + 1;

  private CostHeader() {
  }

  /** Headers holding {@code priced}'s cost and whether it was priced by the fallback. */
  static Headers of(PricedEvent priced) {
    return new RecordHeaders().add(NAME, ByteBuffer.allocate(LENGTH)
        .putLong(priced.costMicros()).put((byte) (priced.fallbackPriced() ? 1 : 0)).array());
  }

  /**
   * {@code event} with the cost its key task gave it, or priced by {@code prices} for a record
   * written before the key task stamped costs (an upgrade's records in flight).
   */
  static PricedEvent read(UsageEvent event, Headers headers, PriceBook prices) {
    Header header = headers.lastHeader(NAME);
    if (header == null || header.value() == null || header.value().length != LENGTH) {
      return PricedEvent.price(event, prices);
    }
    ByteBuffer value = ByteBuffer.wrap(header.value());
    return new PricedEvent(event, value.getLong(), value.get() != 0);
  }
}
