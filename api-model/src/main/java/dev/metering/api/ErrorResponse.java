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

  /** The error type an answer of {@code status} has when nothing more specific is known. */
  public static String typeOf(int status) {
    return switch (status) {
      case 401 -> "authentication_error";
      case 403 -> "permission_error";
      case 404 -> "not_found_error";
      case 409 -> "conflict_error";
      case 429 -> "rate_limit_error";
      case 503 -> "unavailable_error";
      default -> status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
    };
  }

  /** What went wrong; {@code field} names the body field or query parameter at fault, when one is. */
  public record ErrorDetail(
      @JsonPropertyDescription("invalid_request_error, authentication_error, permission_error, not_found_error,"
          + " conflict_error, rate_limit_error, unavailable_error or api_error") String type,
      String message,
      @JsonInclude(JsonInclude.Include.NON_NULL)
      @JsonPropertyDescription("the body field or query parameter at fault") String field) {
  }
}
