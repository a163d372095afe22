package dev.metering.stream.ingest;

import java.util.Objects;

/** A reason and a sentence a person can act on. */
public record Rejection(RejectReason reason, String message) {

  public Rejection {
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(message, "message");
  }
}
