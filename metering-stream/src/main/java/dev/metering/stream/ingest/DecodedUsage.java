package dev.metering.stream.ingest;

import dev.metering.records.UsageEvent;
import java.util.Objects;

/**
 * A usage-events value as read from the topic: either a decoded event or the bytes that could
 * not be decoded. Decoding never throws, so a bad record reaches the topology and the dead-letter
 * topic instead of stopping the application or being skipped.
 */
public sealed interface DecodedUsage {

  /** The bytes as they were on the topic. */
  byte[] raw();

  record Decoded(UsageEvent event, byte[] raw) implements DecodedUsage {
    public Decoded {
      Objects.requireNonNull(event, "event");
      Objects.requireNonNull(raw, "raw");
    }
  }

  record Undecodable(byte[] raw, Exception cause) implements DecodedUsage {
    public Undecodable {
      Objects.requireNonNull(cause, "cause");
    }
  }
}
