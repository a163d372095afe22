package dev.metering.stream.usage;

import dev.metering.records.state.UsageTotals;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Every API key's daily totals laid out by org, in the org task: one store entry per (day, org,
 * key), keyed so that the keys of one org's day are one contiguous range in key order. An org's
 * report by key reads its own days, one partition, a page of keys at a time, instead of walking
 * every key of every org in every partition.
 *
 * <p>Entries carry no model breakdown (a report by key does not show one), so each is a fixed
 * handful of counters, stored as such ({@link #SERDE}: a version byte and eight longs) rather than
 * as an Avro record: a page of a report decodes tens of thousands of them, and the org task one or
 * two per event. Days older than their retention are deleted by {@link #expire}, which the org
 * task calls with the time through which every usage partition is final.
 *
 * <p>Days only: each entry costs the pipeline a store write and a changelog record per event (fewer
 * where the cache coalesces a key's events within a commit), and hours would double that; a report
 * by key in hours is read the old way (see {@code QueryService}).
 *
 * <p>Key layout: {@code d} (room for other widths), the day start as 16 hex digits of the sign-flipped
 * millis (byte order = time order), the org id's length in 4 hex digits, the org id, U+0001,
 * then the API key id. The length prefix makes the (bucket, org) prefix unambiguous whatever characters the ids hold.
 */
public final class OrgKeyTotals {

  public static final String STORE = "org-key-totals";
  /** In the org progress store: the task's stream time when it first kept these totals (MIN_VALUE: from the start). */
  public static final String SINCE = "org_key_totals_since_ms";

  private static final char DAY = 'd';
  private static final char PREFIX_END = '\u0001';

  /** The values: version 1, then input, output, cache creation, cache read, cost, requests, fallback priced, last event time. */
  public static final Serde<UsageTotals> SERDE = Serdes.serdeFrom(OrgKeyTotals::encode, OrgKeyTotals::decode);

  private static final byte VERSION = 1;
  private static final int SIZE = 1 + 8 * Long.BYTES;

  private final KeyValueStore<String, UsageTotals> store;

  public OrgKeyTotals(KeyValueStore<String, UsageTotals> store) {
    this.store = store;
  }

  /** Adds the event to its key's day in its org. */
  public void add(String orgId, String apiKeyId, PricedEvent priced) {
    String key = prefix(Periods.dayStart(priced.event().getTimestamp()), orgId) + apiKeyId;
    UsageTotals totals = store.get(key);
    store.put(key, Totals.add(totals != null ? totals : Totals.empty(orgId), priced));
  }

  /** Deletes the days that start before {@code cutoff}; returns how many entries. */
  public int expire(long cutoff) {
    List<String> expired = new ArrayList<>();
    // every key of a day starting before the cutoff sorts before the bare prefix of the cutoff
    try (KeyValueIterator<String, UsageTotals> old = store.range(String.valueOf(DAY), DAY + hex(cutoff))) {
      while (old.hasNext()) {
        expired.add(old.next().key);
      }
    }
    expired.forEach(store::delete);
    return expired.size();
  }

  /** The prefix of every key of one org's day: append an API key id for its entry. */
  public static String prefix(long dayStart, String orgId) {
    String length = Integer.toHexString(orgId.length());
    return DAY + hex(dayStart) + "0000".substring(length.length()) + length + orgId + PREFIX_END;
  }

  /**
   * A key after every key that starts with {@code prefix} and before any other that follows them:
   * the prefix's last character (U+0001) raised by one. A bounded range: an open-ended one makes the
   * store's cache copy every cached key after its start.
   */
  public static String rangeEnd(String prefix) {
    return prefix.substring(0, prefix.length() - 1) + (char) (PREFIX_END + 1);
  }

  private static byte[] encode(String topic, UsageTotals t) {
    if (t == null) {
      return null;
    }
    return ByteBuffer.allocate(SIZE).put(VERSION)
        .putLong(t.getInputTokens()).putLong(t.getOutputTokens())
        .putLong(t.getCacheCreationInputTokens()).putLong(t.getCacheReadInputTokens())
        .putLong(t.getCostMicros()).putLong(t.getRequests()).putLong(t.getFallbackPricedRequests())
        .putLong(t.getLastEventTime()).array();
  }

  /** The org id is the key's; the value leaves it empty. */
  private static UsageTotals decode(String topic, byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    if (bytes.length != SIZE || bytes[0] != VERSION) {
      throw new SerializationException("not an " + STORE + " value: " + bytes.length + " bytes, version "
          + (bytes.length == 0 ? "none" : bytes[0]));
    }
    ByteBuffer b = ByteBuffer.wrap(bytes, 1, SIZE - 1);
    return new UsageTotals("", b.getLong(), b.getLong(), b.getLong(), b.getLong(), b.getLong(), b.getLong(),
        b.getLong(), b.getLong(), new HashMap<>());
  }

  /** Hex of the sign-flipped value, 16 digits: its byte order is the numeric order of the values. */
  private static String hex(long millis) {
    String digits = Long.toHexString(millis ^ Long.MIN_VALUE);
    return "0".repeat(16 - digits.length()) + digits;
  }
}
