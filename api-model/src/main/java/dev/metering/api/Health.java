package dev.metering.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.metering.api.openapi.OneOf;

/** A health answer; {@code state} says more where the service has one (metering-stream's Kafka Streams state). */
public record Health(@OneOf({"ok", "unavailable"}) String status, @JsonInclude(JsonInclude.Include.NON_NULL) String state) {

  public static Health of(boolean ok) {
    return new Health(ok ? "ok" : "unavailable", null);
  }
}
