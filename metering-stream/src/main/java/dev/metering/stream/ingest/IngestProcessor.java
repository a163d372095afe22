package dev.metering.stream.ingest;

import dev.metering.records.ApiKey;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.DeadLetterHeaders;
import dev.metering.stream.limits.KeyLimits;
import dev.metering.stream.usage.Periods;
import dev.metering.stream.usage.Progress;
import dev.metering.stream.usage.SourceWatermarks;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.TimestampedKeyValueStore;
import org.apache.kafka.streams.state.ValueAndTimestamp;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First step for every usage-events record: rejects what cannot be counted (with its reason in
 * headers, for the dead-letter topic), drops an API key's repeated event ids within the dedup
 * window (a repeat with other usage than its original is dead-lettered instead), and counts each
 * outcome exactly once in a state store. Lateness is judged against the partition's watermark,
 * the highest event time accepted on it: rejected records never move it.
 * An event is counted under the organisation its key is registered to in the api-keys table,
 * which is in the same task.
 */
public final class IngestProcessor implements Processor<String, DecodedUsage, String, IngestOutcome> {

  public static final String DEDUP_STORE = "dedup-event-ids";
  public static final String COUNTERS_STORE = "ingest-counters";
  /** In the progress store: the watermark when the task first remembered event ids per key. */
  static final String PER_KEY_DEDUP_SINCE = "per_key_dedup_since_ms";

  private static final Logger log = LoggerFactory.getLogger(IngestProcessor.class);

  private final UsageValidation validation;
  private final long dedupWindowMillis;
  private final long idleAfterMillis;

  private ProcessorContext<String, IngestOutcome> context;
  private WindowStore<String, Long> seen;
  private KeyValueStore<String, Long> counters;
  private TimestampedKeyValueStore<String, ApiKey> apiKeys;
  private KeyValueStore<String, Long> progressStore;
  private Progress progress;
  /** Read on the first record, not in init: a store written outside processing has no record context to log with. */
  private Long legacyDedupUntil;
  /** Day of the watermark last announced to the org tasks; MIN_VALUE forces the next announcement. */
  private long announcedDay = Long.MIN_VALUE;
  private long lastAcceptedWallClock;
  private boolean announcedIdle;

  /**
   * @param idleAfter how long a partition may accept nothing before it announces itself idle, so
   *     org days are judged without waiting for it
   */
  public IngestProcessor(UsageValidation validation, Duration dedupWindow, Duration idleAfter) {
    this.validation = Objects.requireNonNull(validation, "validation");
    this.dedupWindowMillis = dedupWindow.toMillis();
    this.idleAfterMillis = idleAfter.toMillis();
  }

  @Override
  public void init(ProcessorContext<String, IngestOutcome> context) {
    this.context = context;
    this.seen = context.getStateStore(DEDUP_STORE);
    this.counters = context.getStateStore(COUNTERS_STORE);
    this.apiKeys = context.getStateStore(KeyLimits.API_KEYS_STORE);
    this.progressStore = context.getStateStore(Progress.INGEST_STORE);
    this.progress = new Progress(progressStore);
    this.legacyDedupUntil = null;
    this.lastAcceptedWallClock = context.currentSystemTimeMs();
    long check = Math.max(1_000, Math.min(idleAfterMillis / 4, 30_000));
    context.schedule(Duration.ofMillis(check), PunctuationType.WALL_CLOCK_TIME, this::announceIfIdle);
  }

  @Override
  public void process(Record<String, DecodedUsage> record) {
    DecodedUsage value = record.value();
    if (value instanceof DecodedUsage.Undecodable undecodable) {
      reject(record, new Rejection(RejectReason.UNDECODABLE, undecodable.cause().getMessage()), undecodable.cause());
      return;
    }
    UsageEvent event = ((DecodedUsage.Decoded) value).event();
    Optional<Rejection> rejection = validation
        .checkContent(record.key(), context.taskId().partition(), event, context.currentSystemTimeMs())
        .or(() -> validation.checkLate(event, progress.time()));
    if (rejection.isPresent()) {
      reject(record, rejection.get(), null);
      return;
    }
    String dedupKey = dedupKey(event.getApiKeyId(), event.getEventId());
    long fingerprint = usageFingerprint(event);
    Earlier earlier = earlier(dedupKey, event, fingerprint);
    if (earlier != null && earlier.sameUsage()) {
      increment(IngestCounters.DUPLICATE);
      return;
    }
    if (earlier != null) {
      reject(record, conflict(event, earlier.time()), null);
      return;
    }
    seen.put(dedupKey, fingerprint, event.getTimestamp());
    increment(IngestCounters.ACCEPTED);
    ApiKey key = ValueAndTimestamp.getValueOrNull(apiKeys.get(event.getApiKeyId()));
    attributeToKeysOrg(event, key);
    progress.advance(event.getTimestamp());
    // without the record's headers: they are the gateway's, not metering's, and went on to the org
    // repartition topic and into limit and spike events, where a record that filled usage-events
    // with headers no longer fit (see PoisonPillIT); a dead letter keeps them, for a replay
    context.forward(new Record<String, IngestOutcome>(record.key(), new IngestOutcome.Accepted(event, key),
        record.timestamp()));
    lastAcceptedWallClock = context.currentSystemTimeMs();
    long day = Periods.dayStart(progress.time());
    if (day > announcedDay || announcedIdle) {
      // once a day of event time: org days are judged in whole days, and a backfill of a month
      // announces thirty times per partition, not once per event
      announcedDay = day;
      announcedIdle = false;
      announce(progress.time(), record.timestamp());
    }
  }

  /**
   * Usage belongs to the organisation its key is registered to, as on the HTTP ingest: an event
   * that names another org (a gateway's bug) is counted under its key's, so neither organisation's
   * totals and budget move with the other's traffic, and counted as {@link IngestCounters#ORG_CORRECTED}.
   * An event of a key the api-keys table does not know yet keeps its own org_id.
   */
  private void attributeToKeysOrg(UsageEvent event, ApiKey key) {
    if (key == null || key.getOrgId().equals(event.getOrgId())) {
      return;
    }
    long corrected = increment(IngestCounters.ORG_CORRECTED);
    if (worthLogging(corrected)) {
      log.warn("usage event of api key {} named org {}, counted under the key's org {} ({} so far on this partition)",
          UsageValidation.quote(event.getApiKeyId()), UsageValidation.quote(event.getOrgId()),
          UsageValidation.quote(key.getOrgId()), corrected);
    }
    event.setOrgId(key.getOrgId());
  }

  private void announceIfIdle(long wallClock) {
    if (!announcedIdle && wallClock - lastAcceptedWallClock >= idleAfterMillis) {
      announcedIdle = true;
      announce(SourceWatermarks.IDLE, Math.max(progress.time(), 0));
    }
  }

  private void announce(long watermark, long timestamp) {
    int partition = context.taskId().partition();
    context.forward(new Record<String, IngestOutcome>(null,
        new IngestOutcome.Watermark(SourceWatermarks.markerKey(partition, watermark)), timestamp));
  }

  /**
   * Event ids are remembered per API key: callers choose their own ids, and one key's id must not
   * hide another key's usage. The length prefix keeps the pair unambiguous whatever characters
   * the ids hold.
   */
  static String dedupKey(String apiKeyId, String eventId) {
    return apiKeyId.length() + ":" + apiKeyId + ":" + eventId;
  }

  /**
   * A copy of the event's (api_key_id, event_id) counted within the dedup window: with the same
   * usage (a retry, a replay) or not. Null when there is none.
   *
   * @param time the earlier copy's event time
   */
  private record Earlier(boolean sameUsage, long time) {
  }

  private Earlier earlier(String dedupKey, UsageEvent event, long fingerprint) {
    long time = event.getTimestamp();
    Earlier earlier = null;
    try (WindowStoreIterator<Long> copies = seen.fetch(dedupKey, time - dedupWindowMillis, time + dedupWindowMillis)) {
      while (copies.hasNext()) {
        KeyValue<Long, Long> copy = copies.next();
        // remembered before usage was fingerprinted, the value is the event time (positive): a plain duplicate
        boolean same = copy.value >= 0 || copy.value == fingerprint;
        if (same || earlier == null) {
          earlier = new Earlier(same, copy.key);
        }
        if (same) {
          return earlier;
        }
      }
    }
    if (earlier != null) {
      return earlier;
    }
    // Stores written before ids were remembered per key hold bare event ids; their entries are
    // no newer than the watermark at the upgrade, so only events near or before it look there.
    if (legacyDedupUntil == null) {
      legacyDedupUntil = legacyDedupUntil();
    }
    if (time <= legacyDedupUntil) {
      try (WindowStoreIterator<Long> bare = seen.fetch(event.getEventId(), time - dedupWindowMillis,
          time + dedupWindowMillis)) {
        return bare.hasNext() ? new Earlier(true, bare.next().key) : null;
      }
    }
    return null;
  }

  /**
   * What the dedup store keeps of an accepted event: a 63-bit FNV-1a hash of the usage it counted
   * (model and token counts; not its time, which an HTTP batch without timestamps stamps anew on
   * each retry, nor its gateway, request or org), with the sign bit set, so it is never taken for
   * an event time, which is what the store held before. Stored in changelogs: the function must
   * never change.
   */
  static long usageFingerprint(UsageEvent event) {
    long hash = 0xcbf29ce484222325L;
    String model = event.getModel();
    for (int i = 0; i < model.length(); i++) {
      hash = fnv(hash, model.charAt(i));
    }
    hash = fnvLong(hash, event.getInputTokens());
    hash = fnvLong(hash, event.getOutputTokens());
    hash = fnvLong(hash, event.getCacheCreationInputTokens());
    hash = fnvLong(hash, event.getCacheReadInputTokens());
    return hash | Long.MIN_VALUE;
  }

  /** FNV-1a over a long's four 16-bit units, low first. */
  private static long fnvLong(long hash, long count) {
    for (int shift = 0; shift < 64; shift += 16) {
      hash = fnv(hash, (int) (count >>> shift) & 0xffff);
    }
    return hash;
  }

  /** FNV-1a over a 16-bit unit, low byte first. */
  private static long fnv(long hash, int unit) {
    long low = (hash ^ (unit & 0xff)) * 0x100000001b3L;
    return (low ^ ((unit >>> 8) & 0xff)) * 0x100000001b3L;
  }

  private static Rejection conflict(UsageEvent event, long earlierTime) {
    return new Rejection(RejectReason.CONFLICTING_DUPLICATE, "api key " + UsageValidation.quote(event.getApiKeyId())
        + " already counted event_id " + UsageValidation.quote(event.getEventId()) + " (event time "
        + Instant.ofEpochMilli(earlierTime) + ") with another model or other token counts: not counted; give this"
        + " call its own event_id (metering dlq replay --own-event-id)");
  }

  /**
   * Until when bare event ids from before the upgrade to per-key dedup can still match: the task's
   * watermark when it first ran with per-key ids plus the dedup window; never for a task that
   * started with them.
   */
  private long legacyDedupUntil() {
    Long since = progressStore.get(PER_KEY_DEDUP_SINCE);
    if (since == null) {
      Long watermark = progressStore.get(Progress.STREAM_TIME);
      since = watermark == null ? Long.MIN_VALUE : watermark;
      progressStore.put(PER_KEY_DEDUP_SINCE, since);
    }
    return since == Long.MIN_VALUE ? Long.MIN_VALUE : since + dedupWindowMillis;
  }

  private void reject(Record<String, DecodedUsage> record, Rejection rejection, Exception cause) {
    Headers headers = new RecordHeaders(record.headers().toArray());
    header(headers, DeadLetterHeaders.REASON, rejection.reason().name());
    header(headers, DeadLetterHeaders.MESSAGE, rejection.message());
    if (cause != null) {
      header(headers, DeadLetterHeaders.EXCEPTION, cause.getClass().getName());
    }
    Optional<RecordMetadata> source = context.recordMetadata();
    source.ifPresent(meta -> {
      header(headers, DeadLetterHeaders.SOURCE_TOPIC, meta.topic());
      header(headers, DeadLetterHeaders.SOURCE_PARTITION, Integer.toString(meta.partition()));
      header(headers, DeadLetterHeaders.SOURCE_OFFSET, Long.toString(meta.offset()));
    });
    increment(IngestCounters.DEAD_LETTERED);
    long ofThisReason = increment(IngestCounters.deadLettered(rejection.reason()));
    if (worthLogging(ofThisReason)) {
      log.warn("usage event {} to dead-letter topic ({} so far on this partition): {} topic {} partition {} offset {}",
          rejection.reason(), ofThisReason, rejection.message(),
          source.map(RecordMetadata::topic).orElse("?"),
          source.map(RecordMetadata::partition).orElse(-1),
          source.map(RecordMetadata::offset).orElse(-1L));
    }
    context.forward(record.withValue((IngestOutcome) new IngestOutcome.Rejected(record.value().raw()))
        .withHeaders(headers));
  }

  /**
   * A misbehaving gateway can send millions of bad events: the first few of a kind are logged, then
   * one in a thousand; the counters have the exact numbers.
   */
  private static boolean worthLogging(long countSoFar) {
    return countSoFar <= 10 || countSoFar % 1000 == 0;
  }

  private long increment(String counter) {
    Long current = counters.get(counter);
    long next = current == null ? 1L : current + 1;
    counters.put(counter, next);
    return next;
  }

  private static void header(Headers headers, String name, String value) {
    headers.remove(name);
    headers.add(name, value.getBytes(StandardCharsets.UTF_8));
  }
}
