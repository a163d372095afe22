package dev.metering.admin.http;

import dev.metering.admin.auth.Principal;
import dev.metering.api.openapi.OpenApi;
import dev.metering.json.Json;
import io.javalin.http.Context;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * One admin endpoint: how it is called, its typed request and response bodies, and its handler.
 * The route table registers the server's routes and generates /openapi.json, so the document
 * cannot drift from the server; a handler's answer is typed by the route's response type.
 */
public record Route(String method, String path, String operationId, String summary, String tag,
    List<OpenApi.Parameter> queryParams, Class<? extends Record> request, int successStatus, Class<?> response,
    Handler<?> handler) {

  /** Handles an authenticated admin request; returns the response body (or a stream of its JSON). */
  @FunctionalInterface
  public interface Handler<T> {
    T handle(Context ctx, Principal principal);
  }

  public Route {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(operationId, "operationId");
    Objects.requireNonNull(summary, "summary");
    Objects.requireNonNull(tag, "tag");
    queryParams = List.copyOf(queryParams);
    Objects.requireNonNull(response, "response");
    Objects.requireNonNull(handler, "handler");
  }

  public static <T> Route get(String tag, String path, String operationId, String summary,
      List<OpenApi.Parameter> queryParams, Class<T> response, Handler<? extends T> handler) {
    return new Route("GET", path, operationId, summary, tag, queryParams, null, 200, response, handler);
  }

  /** A GET whose answer is passed through as JSON from metering-stream; {@code response} is its shape. */
  public static Route getStreamed(String tag, String path, String operationId, String summary,
      List<OpenApi.Parameter> queryParams, Class<?> response, Handler<InputStream> handler) {
    return new Route("GET", path, operationId, summary, tag, queryParams, null, 200, response, handler);
  }

  public static <T> Route post(String tag, String path, String operationId, String summary,
      Class<? extends Record> request, int status, Class<T> response, Handler<? extends T> handler) {
    return new Route("POST", path, operationId, summary, tag, List.of(), request, status, response, handler);
  }

  public static <T> Route delete(String tag, String path, String operationId, String summary, Class<T> response,
      Handler<? extends T> handler) {
    return new Route("DELETE", path, operationId, summary, tag, List.of(), null, 200, response, handler);
  }

  /** The fields its request body may hold (none without a body). */
  public Set<String> bodyFields() {
    return request == null ? Set.of() : Json.fieldNames(request);
  }

  public List<String> pathParams() {
    return operation().pathParams();
  }

  /**
   * The route as OpenAPI describes it: any admin route may answer 400, 401, 403 and 503; one
   * naming an object 404; one with a body 413 (over admin-api's request limit); a change 409 and
   * 429 (its organisation's changes a minute).
   */
  public OpenApi.Operation operation() {
    List<Integer> errors = new ArrayList<>(List.of(400, 401, 403));
    if (path.contains("{")) {
      errors.add(404);
    }
    if (!method.equals("GET")) {
      errors.add(409);
    }
    if (request != null) {
      errors.add(413);
    }
    if (!method.equals("GET")) {
      errors.add(429);
    }
    errors.add(503);
    return new OpenApi.Operation(method, path, operationId, summary, tag, queryParams, request, List.of(successStatus),
        response, errors, "adminKey");
  }
}
