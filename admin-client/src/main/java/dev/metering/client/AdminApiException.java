package dev.metering.client;

/** An error answered by the admin API; subclasses name the common statuses. */
public class AdminApiException extends RuntimeException {

  private final int status;
  private final String type;
  private final String field;

  public AdminApiException(int status, String type, String message, String field) {
    super(status + " " + type + ": " + message + (field == null ? "" : " (field " + field + ")"));
    this.status = status;
    this.type = type;
    this.field = field;
  }

  public int status() {
    return status;
  }

  public String type() {
    return type;
  }

  /** The request field or parameter a 400 names, or null. */
  public String field() {
    return field;
  }

  static AdminApiException of(int status, String type, String message, String field) {
    return switch (status) {
      case 400 -> new InvalidRequest(type, message, field);
      case 401 -> new Unauthenticated(type, message);
      case 403 -> new PermissionDenied(type, message);
      case 404 -> new NotFound(type, message);
      case 409 -> new Conflict(type, message);
      case 429 -> new RateLimited(type, message);
      case 503 -> new Unavailable(type, message);
      default -> new AdminApiException(status, type, message, field);
    };
  }

  /** 400: a field or parameter is missing or invalid. */
  public static final class InvalidRequest extends AdminApiException {
    InvalidRequest(String type, String message, String field) {
      super(400, type, message, field);
    }
  }

  /** 401: no admin key, or an invalid, revoked or expired one. */
  public static final class Unauthenticated extends AdminApiException {
    Unauthenticated(String type, String message) {
      super(401, type, message, null);
    }
  }

  /** 403: the key is not an admin key. */
  public static final class PermissionDenied extends AdminApiException {
    PermissionDenied(String type, String message) {
      super(403, type, message, null);
    }
  }

  /** 404: no such resource in the caller's organisation. */
  public static final class NotFound extends AdminApiException {
    NotFound(String type, String message) {
      super(404, type, message, null);
    }
  }

  /** 409: the resource's state forbids it (a revoked key). */
  public static final class Conflict extends AdminApiException {
    Conflict(String type, String message) {
      super(409, type, message, null);
    }
  }

  /** 429: slow down. */
  public static final class RateLimited extends AdminApiException {
    RateLimited(String type, String message) {
      super(429, type, message, null);
    }
  }

  /** 503: try again shortly (usage data is moving between instances). */
  public static final class Unavailable extends AdminApiException {
    Unavailable(String type, String message) {
      super(503, type, message, null);
    }
  }
}
