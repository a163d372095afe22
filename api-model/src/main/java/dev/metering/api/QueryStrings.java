package dev.metering.api;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The rule both HTTP APIs apply to a query string: each parameter is given at most once, since
 * which of two {@code starting_at}s a server reads is up to the server (none of the parameters
 * takes a list).
 */
public final class QueryStrings {

  private QueryStrings() {
  }

  /** The error to answer when a parameter of {@code params} is given more than once. */
  public static Optional<ErrorResponse.ErrorDetail> repeated(Map<String, List<String>> params) {
    return params.entrySet().stream().filter(e -> e.getValue().size() > 1).findFirst()
        .map(e -> new ErrorResponse.ErrorDetail("invalid_request_error",
            e.getKey() + " is given " + e.getValue().size() + " times; give it once", e.getKey()));
  }
}
