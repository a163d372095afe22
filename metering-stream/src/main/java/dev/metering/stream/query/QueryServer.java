package dev.metering.stream.query;

import dev.metering.api.ErrorResponse;
import dev.metering.http.JsonBadMessages;
import dev.metering.http.Refusals;
import dev.metering.api.QueryStrings;
import dev.metering.api.Health;
import dev.metering.json.Json;
import dev.metering.keys.ServiceToken;
import dev.metering.metrics.ServiceMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.HttpResponseException;
import io.javalin.json.JavalinJackson;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP face of metering-stream: usage queries (JSON), health and Prometheus metrics. The
 * queries are an internal API: every caller (admin-api, the other instances forwarding) presents
 * the service token, and the server listens on loopback unless told otherwise. Health and
 * metrics carry no organisation's data and stay open for probes and scrapers.
 */
public final class QueryServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(QueryServer.class);

  private static final String STARTED = "metering.started";

  private final Javalin app;
  private volatile QueryService service;

  /** What the health and metrics endpoints read. */
  public interface Status {
    boolean live();

    boolean ready();

    String describe();

    String scrape();
  }

  private final ObjectMapper json;

  private QueryServer(Javalin app, ObjectMapper json) {
    this.app = app;
    this.json = json;
  }

  /** Starts listening at once (port 0 picks a free one); queries answer 503 until {@link #serve} is called. */
  public static QueryServer start(String bind, int port, ServiceToken token, MeterRegistry metrics,
      Supplier<Status> status) {
    ObjectMapper json = Json.mapper();
    Javalin app = Javalin.create(config -> {
      config.showJavalinBanner = false;
      config.jsonMapper(new JavalinJackson(json, false));
      JsonBadMessages.install(config, json, (code, message) ->
          ErrorResponse.of(ErrorResponse.typeOf(code), message, null));
      Refusals.install(config);
    });
    QueryServer server = new QueryServer(app, json);
    app.before(ctx -> ctx.attribute(STARTED, System.nanoTime()));
    app.after(ctx -> {
      Long started = ctx.attribute(STARTED);
      if (started != null) {
        ServiceMetrics.httpRequest(metrics, "metering-stream", ctx.method().name(), ctx.endpointHandlerPath(),
            ctx.statusCode(), System.nanoTime() - started);
      }
    });
    app.before("/v1/*", ctx -> {
      if (!token.accepts(ctx.header("Authorization"))) {
        throw new UnauthorizedException();
      }
    });
    app.exception(UnauthorizedException.class, (e, ctx) -> error(ctx, 401, "authentication_error",
        "the query API needs the service token (Authorization: Bearer <METERING_QUERY_TOKEN>)", null));
    for (QueryRoute route : QueryRoute.values()) {
      app.get(route.operation().path(), server.query(route.function(), route.operation().pathParams().get(0)));
    }
    Map<String, Object> openApi = QueryRoute.document();
    app.get("/openapi.json", ctx -> ctx.json(openApi));
    app.get("/health/live", ctx -> health(ctx, status.get() != null && status.get().live(), status));
    app.get("/health/ready", ctx -> health(ctx, status.get() != null && status.get().ready(), status));
    app.get("/metrics", ctx -> {
      Status s = status.get();
      ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(s == null ? "" : s.scrape());
    });
    app.exception(BadRequestException.class, (e, ctx) -> error(ctx, 400, "invalid_request_error", e.getMessage(),
        e.parameter()));
    app.exception(NotFoundException.class, (e, ctx) -> error(ctx, 404, "not_found_error", e.getMessage(), null));
    app.exception(UnavailableException.class, (e, ctx) -> {
      ctx.header("Retry-After", "1");
      error(ctx, 503, "unavailable_error", e.getMessage(), null);
    });
    app.exception(Exception.class, (e, ctx) -> {
      log.error("query {} failed", ctx.path(), e);
      error(ctx, 500, "api_error", "internal error; see the metering-stream log", null);
    });
    // Javalin's own refusals (no such endpoint, a method the path does not take) in the same shape as ours
    app.exception(HttpResponseException.class, (e, ctx) -> error(ctx, e.getStatus(),
        ErrorResponse.typeOf(e.getStatus()), Refusals.describe(e, ctx), null));
    app.start(bind, port);
    log.info("query server listening on {}:{}", bind, app.port());
    return server;
  }

  public int port() {
    return app.port();
  }

  /** Starts answering queries with {@code service}. */
  public void serve(QueryService service) {
    this.service = service;
  }

  @Override
  public void close() {
    app.stop();
  }

  private Handler query(QueryRoute.QueryFunction function, String idParam) {
    return ctx -> {
      QueryService current = service;
      if (current == null) {
        throw new UnavailableException("metering-stream is starting");
      }
      QueryStrings.repeated(ctx.queryParamMap()).ifPresent(e -> {
        throw new BadRequestException(e.field(), e.message());
      });
      String query = ctx.queryString();
      QueryService.Call call = new QueryService.Call(
          ctx.path() + (query == null || query.isEmpty() ? "" : "?" + query),
          ctx::queryParam,
          ctx.header(HttpInstanceClient.FORWARDED_HEADER) != null,
          ctx.header(HttpInstanceClient.LOCAL_SCOPE_HEADER) != null);
      QueryService.Answer answer = function.apply(current, ctx.pathParam(idParam), call);
      if (answer instanceof QueryService.Answer.Forwarded forwarded) {
        forwarded.retryAfter().ifPresent(value -> ctx.header("Retry-After", value));
        ctx.status(forwarded.status()).contentType("application/json").result(forwarded.body());
      } else {
        // written straight to the response: an org-wide report can be tens of megabytes, which
        // ctx.json would first build as one String and then copy into bytes
        QueryService.Answer.Local local = (QueryService.Answer.Local) answer;
        local.headers().forEach(ctx::header);
        ctx.contentType("application/json");
        json.writeValue(ctx.outputStream(), local.body());
      }
    };
  }

  private static void health(Context ctx, boolean ok, Supplier<Status> status) {
    Status s = status.get();
    ctx.status(ok ? 200 : 503).json(new Health(ok ? "ok" : "unavailable", s == null ? "STARTING" : s.describe()));
  }

  private static void error(Context ctx, int status, String type, String message, String parameter) {
    ctx.status(status).json(ErrorResponse.of(type, message, parameter));
  }

  private static final class UnauthorizedException extends RuntimeException {
    UnauthorizedException() {
      super(null, null, false, false);
    }
  }
}
