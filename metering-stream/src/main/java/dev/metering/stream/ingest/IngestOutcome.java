package dev.metering.stream.ingest;

import dev.metering.records.UsageEvent;
import java.util.Objects;

/** What ingestion made of one usage-events record: an event to count, or bytes for the dead-letter topic. */
public sealed interface IngestOutcome {

  record Accepted(UsageEvent event) implements IngestOutcome {
    public Accepted {
      Objects.requireNonNull(event, "event");
    }
  }

  /** The original value bytes; the reason travels in the record's headers. */
  record Rejected(byte[] raw) implements IngestOutcome {
  }
}
