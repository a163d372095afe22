package dev.metering.api.admin;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import dev.metering.api.ErrorResponse.ErrorDetail;
import dev.metering.api.openapi.OneOf;
import java.util.List;

/** The answer to a batch: every event's outcome, by its index in the batch. */
@JsonClassDescription("every event's outcome: 202 when all were accepted, 207 when some were rejected")
public record UsageBatchResult(int accepted, int rejected, List<EventResult> results,
    @JsonInclude(JsonInclude.Include.NON_NULL) ErrorDetail error) {

  /** One event's outcome; {@code error} says why it was rejected or not acknowledged. */
  public record EventResult(int index, @JsonInclude(JsonInclude.Include.NON_NULL) String eventId,
      @OneOf({"accepted", "rejected", "unavailable"}) String status,
      @JsonInclude(JsonInclude.Include.NON_NULL) ErrorDetail error) {
  }
}
