package dev.metering.stream.ingest;

import dev.metering.records.UsageEvent;
import java.util.Objects;

/** What ingestion made of one usage-events record: an event to count, bytes for the dead-letter topic, or a watermark to announce. */
public sealed interface IngestOutcome {

  record Accepted(UsageEvent event) implements IngestOutcome {
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
