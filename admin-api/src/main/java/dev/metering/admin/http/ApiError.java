package dev.metering.admin.http;

/** An error answered as {@code {"error": {"type", "message", "field"}}} with its HTTP status. */
public class ApiError extends RuntimeException {

  private final int status;
  private final String type;
  private final String field;

  public ApiError(int status, String type, String message, String field) {
    super(message);
    this.status = status;
    this.type = type;
    this.field = field;
  }

  public static ApiError invalid(String field, String message) {
    return new ApiError(400, "invalid_request_error", message, field);
  }

  public static ApiError unauthorized(String message) {
    return new ApiError(401, "authentication_error", message, null);
  }

  public static ApiError forbidden(String message) {
    return new ApiError(403, "permission_error", message, null);
  }

  public static ApiError notFound(String message) {
    return new ApiError(404, "not_found_error", message, null);
  }

  public static ApiError conflict(String message) {
    return new ApiError(409, "conflict_error", message, null);
  }

  public int status() {
    return status;
  }

  public String type() {
    return type;
  }

  public String field() {
    return field;
  }
}
