package dev.metering.stream.ingest;

import dev.metering.schemas.UsageLimits;
import static dev.metering.stream.MeteringFixture.event;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.records.UsageEvent;
import dev.metering.records.state.UsageTotals;
import dev.metering.schemas.DeadLetterHeaders;
import dev.metering.schemas.Topics;
import dev.metering.stream.MeteringFixture;
import dev.metering.stream.ingest.IngestCounters;
import dev.metering.stream.ingest.RejectReason;
import dev.metering.stream.ingest.IngestProcessor;
import dev.metering.stream.usage.KeyUsageProcessor;
import dev.metering.stream.usage.OrgUsageProcessor;
import dev.metering.stream.usage.Progress;
import dev.metering.stream.usage.Totals;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class IngestTest {

  private final MeteringFixture fx = new MeteringFixture();

  @AfterEach
  void close() {
    fx.close();
  }

  @Test
  void shouldCountADuplicateEventIdOnce() {
    UsageEvent first = event("key-1", "2026-11-10T12:00:00Z", 100);
    UsageEvent again = UsageEvent.newBuilder(first).build();

    fx.send(first);
    fx.send(again);

    assertEquals(100, fx.bucket(KeyUsageProcessor.DAILY_STORE, "key-1", "2026-11-10T00:00:00Z").getInputTokens());
    assertEquals(1, fx.counter(IngestCounters.ACCEPTED));
    assertEquals(1, fx.counter(IngestCounters.DUPLICATE));
  }

  @Test
  void shouldCountARetryStampedAtAnotherTimeAsADuplicate() {
    // an HTTP batch without timestamps is stamped anew on each retry
    UsageEvent first = event("key-1", "2026-11-10T12:00:00Z", 100);
    UsageEvent retry = UsageEvent.newBuilder(first).setTimestamp(first.getTimestamp() + 60_000).setRequestId("r-2")
        .setGatewayId("gw-other").build();

    fx.send(first);
    fx.send(retry);

    assertEquals(1, fx.counter(IngestCounters.DUPLICATE));
    assertEquals(0, fx.counter(IngestCounters.DEAD_LETTERED));
    assertEquals(100, fx.bucket(KeyUsageProcessor.DAILY_STORE, "key-1", "2026-11-10T00:00:00Z").getInputTokens());
  }

  @Test
  void shouldDeadLetterARepeatedEventIdWithOtherUsageInsteadOfDroppingItsUsage() {
    UsageEvent first = event("key-1", "2026-11-10T12:00:00Z", 100);
    fx.send(first);
    List<Consumer<UsageEvent.Builder>> changes = List.of(
        e -> e.setModel("claude-haiku-4-5"),
        e -> e.setInputTokens(101),
        e -> e.setOutputTokens(e.getOutputTokens() + 1),
        e -> e.setCacheCreationInputTokens(e.getCacheCreationInputTokens() + 1),
        e -> e.setCacheReadInputTokens(e.getCacheReadInputTokens() + (1L << 20)));

    for (Consumer<UsageEvent.Builder> change : changes) {
      UsageEvent.Builder other = UsageEvent.newBuilder(first).setTimestamp(first.getTimestamp() + 1_000);
      change.accept(other);
      byte[] bytes = Topics.USAGE_EVENTS.encode(other.build());
      fx.usage.pipeInput("key-1", bytes, Instant.ofEpochMilli(other.getTimestamp()));

      TestRecord<byte[], byte[]> dead = fx.deadLetters.readRecord();
      assertEquals(RejectReason.CONFLICTING_DUPLICATE.name(), header(dead, DeadLetterHeaders.REASON));
      assertEquals("api key 'key-1' already counted event_id '" + first.getEventId() + "' (event time"
          + " 2026-11-10T12:00:00Z) with another model or other token counts: not counted; give this call its own"
          + " event_id (metering dlq replay --own-event-id)", header(dead, DeadLetterHeaders.MESSAGE));
      assertArrayEquals(bytes, dead.value(), "kept to be sent again under its own id");
    }
    fx.send(first);

    assertEquals(1, fx.counter(IngestCounters.ACCEPTED));
    assertEquals(changes.size(), fx.counter(IngestCounters.deadLettered(RejectReason.CONFLICTING_DUPLICATE)));
    assertEquals(1, fx.counter(IngestCounters.DUPLICATE), "the first copy still matches itself");
    assertEquals(100, fx.bucket(KeyUsageProcessor.DAILY_STORE, "key-1", "2026-11-10T00:00:00Z").getInputTokens(),
        "the first copy counts");
  }

  @Test
  void shouldQuoteLongIdsOfAConflictingCopy() {
    String id = "e".repeat(UsageLimits.MAX_FIELD_LENGTH);
    String key = "k".repeat(UsageLimits.MAX_FIELD_LENGTH);
    UsageEvent first = UsageEvent.newBuilder(event(key, "2026-11-10T12:00:00Z", 100)).setEventId(id).build();
    fx.send(first);

    fx.send(UsageEvent.newBuilder(first).setInputTokens(1).build());

    String message = header(fx.deadLetters.readRecord(), DeadLetterHeaders.MESSAGE);
    assertTrue(message.length() < 400, message);
  }

  @Test
  void shouldTakeACopyOfAnEventIdRememberedWithoutItsUsageForADuplicate() {
    // entries written before fingerprints hold the event time: what they counted is unknown
    UsageEvent first = event("key-1", "2026-11-10T12:00:00Z", 100);
    WindowStore<String, Long> dedup = fx.driver.getWindowStore(IngestProcessor.DEDUP_STORE);
    dedup.put(IngestProcessor.dedupKey("key-1", first.getEventId()), first.getTimestamp(), first.getTimestamp());

    fx.send(UsageEvent.newBuilder(first).setInputTokens(7).build());

    assertEquals(1, fx.counter(IngestCounters.DUPLICATE));
    assertEquals(0, fx.counter(IngestCounters.DEAD_LETTERED));
  }

  @Test
  void shouldFingerprintUsageTheSameWayForGood() {
    // kept in changelogs: a changed function would call every retry after an upgrade a conflict
    UsageEvent event = UsageEvent.newBuilder(event("key-1", "2026-11-10T12:00:00Z", 100)).setModel("claude-sonnet-4-5")
        .setOutputTokens(20).setCacheCreationInputTokens(3).setCacheReadInputTokens(1_000_000_000L).build();

    // FNV-1a 64 of the model's UTF-16LE bytes and the four counts' little-endian bytes, sign bit set
    // (worked out apart from this code)
    assertEquals(0xea0532e191085dc4L, IngestProcessor.usageFingerprint(event));
  }

  @Test
  void shouldCountAnEventIdAgainAfterTheDedupWindow() {
    UsageEvent first = event("key-1", "2026-11-01T00:00:00Z", 100);
    fx.send(first);
    fx.send(event("key-1", "2026-11-08T00:00:01Z", 1));
    // the same id, stamped more than the dedup window (7 days) after the first copy
    UsageEvent repeat = UsageEvent.newBuilder(first).setTimestamp(Instant.parse("2026-11-08T00:00:02Z").toEpochMilli()).build();

    fx.send(repeat);

    assertEquals(0, fx.counter(IngestCounters.DUPLICATE), "the first copy is older than the window at the repeat");
    assertEquals(3, fx.counter(IngestCounters.ACCEPTED));
  }

  @Test
  void shouldDeadLetterUndecodableBytesWithTheOriginalBytesAndCoordinates() {
    byte[] garbage = "not avro".getBytes(StandardCharsets.UTF_8);

    fx.usage.pipeInput("key-1", garbage, Instant.parse("2026-11-10T12:00:00Z"));

    TestRecord<byte[], byte[]> dead = fx.deadLetters.readRecord();
    assertArrayEquals(garbage, dead.value());
    assertArrayEquals("key-1".getBytes(StandardCharsets.UTF_8), dead.key());
    assertEquals("UNDECODABLE", header(dead, DeadLetterHeaders.REASON));
    assertTrue(header(dead, DeadLetterHeaders.MESSAGE).contains("not Avro single-object encoding"));
    assertEquals("org.apache.kafka.common.errors.SerializationException", header(dead, DeadLetterHeaders.EXCEPTION));
    assertEquals(Topics.USAGE_EVENTS.name(), header(dead, DeadLetterHeaders.SOURCE_TOPIC));
    assertEquals("0", header(dead, DeadLetterHeaders.SOURCE_PARTITION));
    assertEquals("0", header(dead, DeadLetterHeaders.SOURCE_OFFSET));
    assertEquals(1, fx.counter(IngestCounters.deadLettered(RejectReason.UNDECODABLE)));
  }

  @Test
  void shouldDeadLetterAMissingField() {
    assertRejected(RejectReason.MISSING_FIELD, "event_id", e -> e.setEventId(""));
  }

  @Test
  void shouldDeadLetterAnEventWhoseKeyIsNotItsApiKeyId() {
    UsageEvent event = event("key-2", "2026-11-10T12:00:00Z", 10);
    byte[] bytes = Topics.USAGE_EVENTS.encode(event);

    fx.usage.pipeInput("key-1", bytes, Instant.ofEpochMilli(event.getTimestamp()));

    TestRecord<byte[], byte[]> dead = fx.deadLetters.readRecord();
    assertEquals("KEY_MISMATCH", header(dead, DeadLetterHeaders.REASON));
    assertArrayEquals(bytes, dead.value());
  }

  @Test
  void shouldDeadLetterAnEventInAnotherPartitionThanItsKeys() {
    // a producer that picks partitions itself, or hashes keys otherwise (librdkafka's default), put a
    // key's usage where its api-keys record, its other events and its queries are not: counted there,
    // it escaped the key's hard limit and was missing from every answer about the key
    try (MeteringFixture fourPartitions = new MeteringFixture(java.util.Map.of(), 4)) {
      String here = MeteringFixture.keyInPartition(0, 4);
      String elsewhere = MeteringFixture.keyInPartition(3, 4);
      UsageEvent stray = event(elsewhere, "2026-11-10T12:00:00Z", 10);

      fourPartitions.send(event(here, "2026-11-10T12:00:00Z", 10)); // the driver feeds partition 0
      fourPartitions.send(stray);

      TestRecord<byte[], byte[]> dead = fourPartitions.deadLetters.readRecord();
      assertEquals("WRONG_PARTITION", header(dead, DeadLetterHeaders.REASON));
      assertTrue(header(dead, DeadLetterHeaders.MESSAGE).contains("in partition 0, its key '" + elsewhere
          + "' in partition 3 of 4"), header(dead, DeadLetterHeaders.MESSAGE));
      assertArrayEquals(Topics.USAGE_EVENTS.encode(stray), dead.value());
      assertEquals(1, fourPartitions.counter(IngestCounters.ACCEPTED));
      assertEquals(1, fourPartitions.counter(IngestCounters.deadLettered(RejectReason.WRONG_PARTITION)));
    }
  }

  @Test
  void shouldDeadLetterNegativeTokens() {
    assertRejected(RejectReason.NEGATIVE_TOKENS, "output_tokens", e -> e.setOutputTokens(-1));
  }

  @Test
  void shouldDeadLetterImplausiblyManyTokens() {
    assertRejected(RejectReason.TOKENS_OUT_OF_RANGE, "cache_read_input_tokens",
        e -> e.setCacheReadInputTokens(2_000_000_000L));
  }

  @Test
  void shouldDeadLetterAnEventTooFarInTheFuture() {
    // the driver's wall clock is 2026-11-30T00:00Z and the tolerance 5 minutes
    assertRejected(RejectReason.FUTURE_EVENT, "is more than 5 minutes ahead of the clock",
        e -> e.setTimestamp(MeteringFixture.NOW.plusSeconds(301).toEpochMilli()));
  }

  @Test
  void shouldAcceptAnEventWithinTheFutureTolerance() {
    fx.send(event("key-1", MeteringFixture.NOW.plusSeconds(299), 10));

    assertTrue(fx.deadLetters.isEmpty());
    assertEquals(1, fx.counter(IngestCounters.ACCEPTED));
  }

  @Test
  void shouldDeadLetterAnEventOlderThanTheGracePeriod() {
    fx.send(event("key-1", "2026-11-20T00:00:00Z", 10));

    assertRejected(RejectReason.LATE_EVENT,
        "is more than 72 hours behind the newest event time accepted on its partition",
        e -> e.setTimestamp(Instant.parse("2026-11-16T23:59:59Z").toEpochMilli()));
  }

  @Test
  void shouldAcceptALateEventWithinTheGracePeriod() {
    fx.send(event("key-1", "2026-11-20T00:00:00Z", 10));

    fx.send(event("key-1", "2026-11-17T00:00:00Z", 10));

    assertTrue(fx.deadLetters.isEmpty());
    assertEquals(2, fx.counter(IngestCounters.ACCEPTED));
  }

  @Test
  void shouldDeadLetterAModelLongerThanTheLimitQuotingOnlyItsStart() {
    // issue 13: 100,000-character model names grew an hour bucket past the 1 MB record limit
    String huge = "m".repeat(100_000);

    assertRejected(RejectReason.FIELD_TOO_LONG, "model has 100000 characters, more than 256", e -> e.setModel(huge));

    assertEquals(0, fx.deadLetters.getQueueSize());
  }

  @Test
  void shouldQuoteAHostileValueWithItsControlCharactersEscaped() {
    // the message goes on into the log and the dead letter's header: no forged line, no escape sequence
    String hostile = "a\n2026-12-02 INFO forged\u001b[2J" + "x".repeat(250);

    assertRejected(RejectReason.FIELD_TOO_LONG, "'a\\u000a2026-12-02 INFO forged\\u001b[2Jxxx",
        e -> e.setRequestId(hostile));
  }

  @Test
  void shouldDeadLetterEveryOversizedStringField() {
    String tooLong = "x".repeat(257);
    assertRejected(RejectReason.FIELD_TOO_LONG, "event_id has 257", e -> e.setEventId(tooLong));
    assertRejected(RejectReason.FIELD_TOO_LONG, "org_id has 257", e -> e.setOrgId(tooLong));
    assertRejected(RejectReason.FIELD_TOO_LONG, "gateway_id has 257", e -> e.setGatewayId(tooLong));
    assertRejected(RejectReason.FIELD_TOO_LONG, "request_id has 257", e -> e.setRequestId(tooLong));
  }

  @Test
  void shouldDeadLetterAControlCharacterInAnyStringFieldInsteadOfCountingItAsAModelOfItsOwn() {
    // a model "\u0000evil" was counted, fallback-priced, as a model of its own in every report
    assertRejected(RejectReason.CONTROL_CHARACTERS, "model must not hold control characters: '\\u0000evil'",
        e -> e.setModel("\u0000evil"));
    assertRejected(RejectReason.CONTROL_CHARACTERS, "event_id must not hold control characters",
        e -> e.setEventId("req-1\n"));
    assertRejected(RejectReason.CONTROL_CHARACTERS, "org_id must not hold control characters",
        e -> e.setOrgId("org\u001b[2J"));
    assertRejected(RejectReason.CONTROL_CHARACTERS, "gateway_id must not hold control characters",
        e -> e.setGatewayId("gw\u007f"));
    assertRejected(RejectReason.CONTROL_CHARACTERS, "request_id must not hold control characters",
        e -> e.setRequestId("\u0085req"));

    UsageEvent lettered = event("key-1", "2026-11-20T12:00:00Z", 10);
    lettered.setModel("claude-sonnet-4-5 \u00e9\u8a9e");
    fx.send(lettered);
    assertEquals(1, fx.counter(IngestCounters.ACCEPTED), "letters of any script and spaces are no control characters");
  }

  @Test
  void shouldDeadLetterIdsWhoseBytesAreNotUtf8InsteadOfDroppingOneAsTheOthersDuplicate() {
    // both decode to "req-\uFFFD-1": before, the second was counted a duplicate and its usage lost
    for (int notUtf8 : new int[] {0xFF, 0xFE}) {
      UsageEvent event = event("key-1", "2026-11-20T12:00:00Z", 10);
      event.setEventId("req-#-1");
      byte[] bytes = Topics.USAGE_EVENTS.encode(event);
      int at = indexOf(bytes, "req-#-1".getBytes(StandardCharsets.UTF_8)) + 4;
      bytes[at] = (byte) notUtf8;

      fx.usage.pipeInput("key-1", bytes, Instant.parse("2026-11-20T12:00:00Z"));

      TestRecord<byte[], byte[]> dead = fx.deadLetters.readRecord();
      assertEquals("MALFORMED_TEXT", header(dead, DeadLetterHeaders.REASON));
      assertTrue(header(dead, DeadLetterHeaders.MESSAGE).startsWith("event_id must be well-formed Unicode text"),
          header(dead, DeadLetterHeaders.MESSAGE));
      assertArrayEquals(bytes, dead.value(), "the original bytes, to mend and replay");
    }
    assertEquals(2, fx.counter(IngestCounters.deadLettered(RejectReason.MALFORMED_TEXT)));
    assertEquals(0, fx.counter(IngestCounters.DUPLICATE));
    assertEquals(0, fx.counter(IngestCounters.ACCEPTED));
  }

  @Test
  void shouldDeadLetterTheReplacementCharacterInAnyStringField() {
    assertRejected(RejectReason.MALFORMED_TEXT, "model must be well-formed Unicode text", e -> e.setModel("claude\uFFFD"));
    assertRejected(RejectReason.MALFORMED_TEXT, "org_id must be well-formed", e -> e.setOrgId("\uFFFDorg"));

    UsageEvent astral = event("key-1", "2026-11-20T12:00:00Z", 10);
    astral.setModel("model-\uD83D\uDE00");
    fx.send(astral);
    assertEquals(1, fx.counter(IngestCounters.ACCEPTED), "a surrogate pair is one well-formed character");
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      if (java.util.Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
        return i;
      }
    }
    throw new AssertionError("not found");
  }

  @Test
  void shouldDeadLetterAModelThatOnlyLooksLikeAnother() {
    // "claude-sonnet-4-5" + a zero-width space was a model of its own in every report, fallback-priced
    assertRejected(RejectReason.CONTROL_CHARACTERS, "model must not hold invisible format characters",
        e -> e.setModel("claude-sonnet-4-5\u200B"));
    assertRejected(RejectReason.CONTROL_CHARACTERS, "api_key_id must not hold invisible", e -> e.setApiKeyId("key-1\u202E"));
  }

  @Test
  void shouldDeadLetterTheReservedOverflowModelName() {
    assertRejected(RejectReason.RESERVED_VALUE, "reserved", e -> e.setModel(UsageLimits.OTHER_MODELS));
  }

  @Test
  void shouldNotLetAnUndecodableRecordTimedByTheBrokerMoveStreamTime() {
    // issue 13: usage-events is LogAppendTime, so a bad record carries the wall clock; it made every
    // later event of a backfill LATE_EVENT
    fx.send(event("key-1", "2026-10-01T00:00:00Z", 10));
    fx.usage.pipeInput("key-1", new byte[] {9, 9, 9}, MeteringFixture.NOW);

    fx.send(event("key-1", "2026-10-01T01:00:00Z", 10));

    assertEquals(2, fx.counter(IngestCounters.ACCEPTED));
    assertEquals(1, fx.counter(IngestCounters.deadLettered(RejectReason.UNDECODABLE)));
  }

  @Test
  void shouldNotLetAFutureOrOtherwiseRejectedEventMoveStreamTime() {
    fx.send(event("key-1", "2026-10-01T00:00:00Z", 10));
    fx.send(event("key-1", MeteringFixture.NOW.plusSeconds(3600), 10));
    UsageEvent mismatched = event("key-2", MeteringFixture.NOW, 10);
    fx.usage.pipeInput("key-1", Topics.USAGE_EVENTS.encode(mismatched),
        MeteringFixture.NOW);

    fx.send(event("key-1", "2026-10-01T02:00:00Z", 10));

    assertEquals(2, fx.counter(IngestCounters.ACCEPTED));
    assertEquals(1, fx.counter(IngestCounters.deadLettered(RejectReason.FUTURE_EVENT)));
    assertEquals(1, fx.counter(IngestCounters.deadLettered(RejectReason.KEY_MISMATCH)));
  }

  @Test
  void shouldCountAnEventThatNamesAnotherOrgUnderItsKeysRegisteredOrg() {
    fx.putKey(MeteringFixture.key("key-1", null, false), "2026-11-01T00:00:00Z");
    UsageEvent foreign = UsageEvent.newBuilder(event("key-1", "2026-11-10T12:00:00Z", 100)).setOrgId("org-2").build();

    fx.send(foreign);
    fx.send(UsageEvent.newBuilder(foreign).build());

    assertEquals(1, fx.counter(IngestCounters.ACCEPTED));
    assertEquals(1, fx.counter(IngestCounters.DUPLICATE));
    assertEquals(1, fx.counter(IngestCounters.ORG_CORRECTED), "only the copy that counts is corrected");
    assertEquals(100, fx.bucket(KeyUsageProcessor.DAILY_STORE, "key-1", "2026-11-10T00:00:00Z").getInputTokens());
    UsageTotals orgDay = fx.bucket(OrgUsageProcessor.DAILY_STORE, MeteringFixture.ORG, "2026-11-10T00:00:00Z");
    assertEquals(100, orgDay.getInputTokens());
    assertEquals(MeteringFixture.ORG, orgDay.getOrgId());
    assertEquals(null, fx.bucket(OrgUsageProcessor.DAILY_STORE, "org-2", "2026-11-10T00:00:00Z"));
    assertEquals(MeteringFixture.ORG, fx.bucket(KeyUsageProcessor.DAILY_STORE, "key-1", "2026-11-10T00:00:00Z").getOrgId());
    assertEquals(100, Totals.totalTokens(fx.orgMonth(MeteringFixture.ORG, "2026-11").getTotals()));
    assertEquals(null, fx.orgMonth("org-2", "2026-11"));
    assertTrue(fx.deadLetters.isEmpty());
  }

  @Test
  void shouldCountAnEventOfAKeyNotYetRegisteredUnderItsOwnOrg() {
    fx.putKey(MeteringFixture.key("key-1", null, false), "2026-11-01T00:00:00Z");

    fx.send(UsageEvent.newBuilder(event("key-2", "2026-11-10T12:00:00Z", 100)).setOrgId("org-2").build());

    assertEquals(1, fx.counter(IngestCounters.ACCEPTED));
    assertEquals(0, fx.counter(IngestCounters.ORG_CORRECTED));
    assertEquals(100, fx.bucket(OrgUsageProcessor.DAILY_STORE, "org-2", "2026-11-10T00:00:00Z").getInputTokens());
  }

  @Test
  void shouldJudgeLatenessByUsageAloneNotByANewerApiKeysRecord() {
    fx.putKey(MeteringFixture.key("key-1", null, false), MeteringFixture.NOW.toString());

    fx.send(event("key-1", "2026-10-01T00:00:00Z", 10));

    assertEquals(1, fx.counter(IngestCounters.ACCEPTED), "an api-keys record of today does not make October late");
  }

  @Test
  void shouldRememberEventIdsPerApiKey() {
    // issue 13: callers of POST /v1/usage/events choose their own ids
    UsageEvent first = event("key-1", "2026-11-10T12:00:00Z", 100);
    UsageEvent otherKey = UsageEvent.newBuilder(event("key-2", "2026-11-10T12:00:00Z", 7))
        .setEventId(first.getEventId()).build();

    fx.send(first);
    fx.send(otherKey);
    fx.send(first);

    assertEquals(2, fx.counter(IngestCounters.ACCEPTED));
    assertEquals(1, fx.counter(IngestCounters.DUPLICATE));
    assertEquals(7, fx.bucket(KeyUsageProcessor.DAILY_STORE, "key-2", "2026-11-10T00:00:00Z").getInputTokens());
  }

  @Test
  void shouldStillRecogniseEventIdsRememberedBeforeDedupWasPerKey() {
    UsageEvent before = event("key-1", "2026-11-10T12:00:00Z", 100);
    long time = before.getTimestamp();
    // a store as the previous version left it: bare event ids, and the task's stream time
    WindowStore<String, Long> dedup = fx.driver.getWindowStore(IngestProcessor.DEDUP_STORE);
    dedup.put(before.getEventId(), time, time);
    KeyValueStore<String, Long> progress = fx.driver.getKeyValueStore(Progress.INGEST_STORE);
    progress.put(Progress.STREAM_TIME, time);

    fx.send(before);
    fx.send(event("key-1", "2026-11-25T12:00:00Z", 1));

    assertEquals(1, fx.counter(IngestCounters.DUPLICATE));
    assertEquals(1, fx.counter(IngestCounters.ACCEPTED));
  }

  @Test
  void shouldReconcileAcceptedDuplicatesAndDeadLettersWithWhatWasConsumed() {
    UsageEvent ok = event("key-1", "2026-11-10T12:00:00Z", 5);
    fx.send(ok);
    fx.send(ok);
    fx.send(UsageEvent.newBuilder(event("key-1", "2026-11-10T12:00:00Z", 5)).setInputTokens(-5).build());
    fx.usage.pipeInput("key-1", new byte[] {1, 2, 3}, Instant.parse("2026-11-10T12:00:00Z"));
    fx.send(event("key-2", "2026-11-10T13:00:00Z", 5));

    long consumed = 5;
    assertEquals(consumed, fx.counter(IngestCounters.ACCEPTED) + fx.counter(IngestCounters.DUPLICATE)
        + fx.counter(IngestCounters.DEAD_LETTERED));
    assertEquals(2, fx.counter(IngestCounters.ACCEPTED));
    assertEquals(2, fx.deadLetters.getQueueSize());
  }

  private void assertRejected(RejectReason reason, String messagePart, Consumer<UsageEvent> spoil) {
    UsageEvent event = event("key-1", "2026-11-20T12:00:00Z", 10);
    spoil.accept(event);
    long acceptedBefore = fx.counter(IngestCounters.ACCEPTED);
    long rejectedBefore = fx.counter(IngestCounters.deadLettered(reason));
    byte[] bytes = Topics.USAGE_EVENTS.encode(event);

    fx.usage.pipeInput("key-1", bytes, Instant.parse("2026-11-20T12:00:00Z"));

    TestRecord<byte[], byte[]> dead = fx.deadLetters.readRecord();
    assertEquals(reason.name(), header(dead, DeadLetterHeaders.REASON));
    assertTrue(header(dead, DeadLetterHeaders.MESSAGE).contains(messagePart), header(dead, DeadLetterHeaders.MESSAGE));
    assertArrayEquals(bytes, dead.value(), "the original bytes");
    assertTrue(header(dead, DeadLetterHeaders.MESSAGE).length() < 400, "a message quotes, never copies, a value");
    assertEquals(rejectedBefore + 1, fx.counter(IngestCounters.deadLettered(reason)));
    assertEquals(acceptedBefore, fx.counter(IngestCounters.ACCEPTED));
  }

  private static String header(TestRecord<byte[], byte[]> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }
}
