package dev.metering.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.config.JavalinConfig;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.function.BiFunction;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.handler.ErrorHandler;

/**
 * Requests Jetty refuses before any handler sees them (a path with an encoded NUL or an ambiguous
 * segment, headers or a URI too large, a malformed request line) answered in the API's JSON error
 * shape rather than Jetty's HTML page, which no client of the API parses.
 */
public final class JsonBadMessages extends ErrorHandler {

  private final ObjectMapper json;
  private final BiFunction<Integer, String, Object> body;

  private JsonBadMessages(ObjectMapper json, BiFunction<Integer, String, Object> body) {
    this.json = json;
    this.body = body;
  }

  /**
   * Makes the server configured by {@code config} answer its refusals with {@code body}, written by
   * {@code json}.
   *
   * @param body the error for a status and a message naming Jetty's reason (a fixed phrase, never the caller's bytes)
   */
  public static void install(JavalinConfig config, ObjectMapper json, BiFunction<Integer, String, Object> body) {
    config.jetty.modifyServer(server -> server.setErrorHandler(new JsonBadMessages(json, body)));
  }

  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    fields.put(HttpHeader.CONTENT_TYPE, "application/json");
    try {
      return ByteBuffer.wrap(json.writeValueAsBytes(
          body.apply(status, "the request is malformed: " + (reason == null ? "bad request" : reason))));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
