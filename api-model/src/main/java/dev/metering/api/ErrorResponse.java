package dev.metering.api;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The body of every error answer of both HTTP APIs. */
@JsonClassDescription("an error")
public record ErrorResponse(ErrorDetail error) {

  public static ErrorResponse of(String type, String message, String field) {
    return new ErrorResponse(new ErrorDetail(type, message, field));
  }

  /** What went wrong; {@code field} names the body field or query parameter at fault, when one is. */
  public record ErrorDetail(
      @JsonPropertyDescription("invalid_request_error, authentication_error, permission_error, not_found_error,"
          + " conflict_error, unavailable_error or api_error") String type,
      String message,
      @JsonInclude(JsonInclude.Include.NON_NULL)
      @JsonPropertyDescription("the body field or query parameter at fault") String field) {
  }
}
