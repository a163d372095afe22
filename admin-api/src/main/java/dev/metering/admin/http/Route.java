package dev.metering.admin.http;

import dev.metering.admin.auth.Principal;
import io.javalin.http.Context;
import java.util.List;
import java.util.Objects;

/**
 * One endpoint: how it is called, what it does, and its handler. The route table registers the
 * server's routes and generates /openapi.json, so the document cannot drift from the server.
 */
public record Route(String method, String path, String summary, List<String> queryParams, List<String> bodyFields,
    int successStatus, Handler handler) {

  /** Handles an authenticated admin request; returns the JSON body. */
  @FunctionalInterface
  public interface Handler {
    Object handle(Context ctx, Principal principal);
  }

  public Route {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(summary, "summary");
    queryParams = List.copyOf(queryParams);
    bodyFields = List.copyOf(bodyFields);
    Objects.requireNonNull(handler, "handler");
  }

  public static Route get(String path, String summary, List<String> queryParams, Handler handler) {
    return new Route("GET", path, summary, queryParams, List.of(), 200, handler);
  }

  public static Route post(String path, String summary, List<String> bodyFields, int status, Handler handler) {
    return new Route("POST", path, summary, List.of(), bodyFields, status, handler);
  }

  public static Route delete(String path, String summary, Handler handler) {
    return new Route("DELETE", path, summary, List.of(), List.of(), 200, handler);
  }

  /** Path parameters, in order: the names in braces. */
  public List<String> pathParams() {
    return java.util.regex.Pattern.compile("\\{([^}]+)}").matcher(path).results().map(m -> m.group(1)).toList();
  }
}
