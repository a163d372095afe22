package dev.metering.stream.ingest;

import dev.metering.records.ApiKey;
import dev.metering.records.UsageEvent;
import java.util.Objects;

/** What ingestion made of one usage-events record: an event to count, bytes for the dead-letter topic, or a watermark to announce. */
public sealed interface IngestOutcome {

  /**
   * @param key the event's key as the api-keys table held it when the event was accepted, or null
   *     when the table does not know it: read once, for both the org check and the key's limits
   */
  record Accepted(UsageEvent event, ApiKey key) implements IngestOutcome {
    public Accepted {
      Objects.requireNonNull(event, "event");
    }
  }

  /** The original value bytes; the reason travels in the record's headers. */
  record Rejected(byte[] raw) implements IngestOutcome {
  }

  /**
   * The partition's watermark moved (or the partition fell idle): every org task is told, see
   * {@link dev.metering.stream.usage.SourceWatermarks}.
   *
   * @param markerKey the marker's record key, from {@link dev.metering.stream.usage.SourceWatermarks#markerKey}
   */
  record Watermark(String markerKey) implements IngestOutcome {
    public Watermark {
      Objects.requireNonNull(markerKey, "markerKey");
    }
  }
}
