package dev.metering.stream.ingest;

/** Why a usage event went to usage-events-dlq; the value of its {@code dlq.reason} header. */
public enum RejectReason {
  /** The value is not a UsageEvent in a schema version we know. */
  UNDECODABLE,
  /** A required field is empty. */
  MISSING_FIELD,
  /** A string field is longer than {@link dev.metering.schemas.UsageLimits#MAX_FIELD_LENGTH}. */
  FIELD_TOO_LONG,
  /**
   * A string field holds a control character (NUL, a line break, a terminal escape) or an invisible
   * format character (zero-width, bidirectional, byte order mark): a model or key of its own in
   * every report otherwise, carried on into tables, CSV files and logs, or one that looks like
   * another.
   */
  CONTROL_CHARACTERS,
  /**
   * A string field is not well-formed Unicode: it holds U+FFFD, which the decoder puts where the
   * record's bytes were not UTF-8 (so different ids would read as one and be dropped as duplicates).
   */
  MALFORMED_TEXT,
  /** A field holds a value reserved by the system (the model name that stands for overflowed models). */
  RESERVED_VALUE,
  /** The record key is not the event's api_key_id, so it sits in the wrong partition for its key's totals. */
  KEY_MISMATCH,
  /**
   * The record is keyed right but sits in another partition than its key's: its producer chose the
   * partition itself, or hashed keys otherwise than Kafka's Java default partitioner (librdkafka's
   * default, for one). Counted there, the key's usage would bypass its limits (its api-keys record is
   * in the key's partition), escape dedup against its other events and be missing from its queries.
   */
  WRONG_PARTITION,
  /** A token count is below zero. */
  NEGATIVE_TOKENS,
  /** A token count is implausibly large for one call. */
  TOKENS_OUT_OF_RANGE,
  /** The event time is further ahead of the wall clock than the tolerance. */
  FUTURE_EVENT,
  /** The event time is older than the partition's event-time watermark minus the grace period. */
  LATE_EVENT,
  /**
   * The key's event_id was counted before, within the dedup window, with another model or other
   * token counts: not a retry of that call but another call under the same id. The first copy
   * counts; dropping this one as a duplicate lost its usage without a trace.
   */
  CONFLICTING_DUPLICATE
}
