package dev.metering.admin;

import dev.metering.admin.budget.BudgetRoutes;
import dev.metering.records.OrgBudget;
import dev.metering.schemas.Topics;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.admin.alerts.AlertRoutes;
import dev.metering.admin.alerts.RuleStore;
import dev.metering.admin.audit.AuditLogReader;
import dev.metering.admin.audit.AuditRoutes;
import dev.metering.admin.auth.AdminAuth;
import dev.metering.admin.auth.Credentials;
import dev.metering.admin.auth.Principal;
import dev.metering.keys.Secrets;
import dev.metering.admin.http.ApiError;
import dev.metering.admin.http.ChangeRates;
import dev.metering.admin.ingest.IngestRoutes;
import dev.metering.admin.http.Route;
import dev.metering.admin.keys.KeyRoutes;
import dev.metering.admin.keys.KeyStore;
import dev.metering.admin.usage.MeteringClient;
import dev.metering.admin.usage.UsageRoutes;
import dev.metering.gateway.UsageReporter;
import dev.metering.json.Json;
import dev.metering.metrics.ServiceMetrics;
import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.api.ErrorResponse;
import dev.metering.http.JsonBadMessages;
import dev.metering.http.Refusals;
import dev.metering.api.QueryStrings;
import dev.metering.api.Health;
import dev.metering.api.openapi.OpenApi;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * admin-api: the organisation's control plane over HTTP. Every route but health, metrics and the
 * OpenAPI document needs an admin key and acts within that key's organisation.
 */
public final class AdminApi implements AutoCloseable {

  /** The version of the API the OpenAPI document states. */
  static final String VERSION = "0.1.0";

  private static final Logger log = LoggerFactory.getLogger(AdminApi.class);
  private static final String SYSTEM_ACTOR = "system:admin-api";
  private static final String STARTED = "metering.started";
  /** Where the web console's static files are served from, and where they sit in the jar. */
  private static final String CONSOLE = "/console";
  /**
   * The console runs only its own script and talks only to this origin; no page may frame it,
   * nothing is cached, and no URL leaks in a Referer. The admin key lives in the tab's
   * sessionStorage and travels only in the Authorization header of the API calls.
   */
  private static final Map<String, String> CONSOLE_HEADERS = Map.of(
      "Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self';"
          + " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      "X-Content-Type-Options", "nosniff",
      "X-Frame-Options", "DENY",
      "Referrer-Policy", "no-referrer",
      "Cache-Control", "no-store");
  /** Usage queries one instance has under way at once; more answer 503 (each may hold tens of MB). */
  private static final int USAGE_QUERIES_AT_ONCE = 8;
  /**
   * The largest request body read, 8 MiB: every valid usage batch fits, even 1,000 events with
   * each string at its longest and written as JSON escapes of six bytes a character (about 5 MB);
   * Javalin's default of 1 MB refused full batches in scripts of more than one byte a character.
   * Bodies are read only after the caller is authenticated.
   */
  public static final long MAX_REQUEST_BYTES = 8L << 20;

  private final AdminConfig config;
  private final ChangeWriter writer;
  private final KeyStore keys;
  private final RuleStore rules;
  /** The org-budgets table, keyed by org_id. */
  private final TopicTable<OrgBudget> budgets;
  private final AuditLogReader auditLog;
  private final UsageReporter reporter;
  private final KeyRoutes keyRoutes;
  private final List<Route> routes;
  private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Javalin server;

  private AdminApi(AdminConfig config, Clock clock) throws InterruptedException {
    this.config = config;
    ObjectMapper json = Json.mapper();
    String bootstrap = config.kafka().bootstrapServers();
    this.writer = new ChangeWriter(bootstrap, config.instanceId());
    this.keys = new KeyStore(bootstrap, writer);
    this.rules = new RuleStore(bootstrap, writer);
    this.budgets = new TopicTable<>(bootstrap, writer, Topics.ORG_BUDGETS, OrgBudget::getOrgId);
    keys.awaitLoaded(Duration.ofSeconds(60));
    rules.awaitLoaded(Duration.ofSeconds(60));
    budgets.awaitLoaded(Duration.ofSeconds(60));
    this.auditLog = new AuditLogReader(bootstrap, writer::auditWrittenThrough);
    this.reporter = UsageReporter.create(bootstrap, "admin-api-ingest");
    Audits audits = new Audits(clock);
    this.keyRoutes = new KeyRoutes(keys, audits, json, clock, config.maxKeysPerOrg());
    this.routes = new ArrayList<>();
    routes.addAll(keyRoutes.routes());
    routes.addAll(new AlertRoutes(rules, keys, audits, json, clock, config.webhookSigning(), config.webhookTargets()).routes());
    routes.addAll(new UsageRoutes(new MeteringClient(config.meteringUrl(), config.meteringToken(), json,
        USAGE_QUERIES_AT_ONCE), keys, budgets, clock).routes());
    routes.addAll(new BudgetRoutes(budgets, keys, audits, json, clock).routes());
    routes.addAll(new AuditRoutes(auditLog).routes());
    ServiceMetrics.attach(metrics);
    AdminAuth auth = new AdminAuth(keys, clock);
    ChangeRates changeRates = new ChangeRates(config.changesPerOrgPerMinute(), System::nanoTime);
    Map<String, Object> openApi = openApi(routes);
    this.server = Javalin.create(cfg -> {
      cfg.showJavalinBanner = false;
      cfg.http.maxRequestSize = MAX_REQUEST_BYTES;
      cfg.jsonMapper(new JavalinJackson(json, false));
      JsonBadMessages.install(cfg, json, (status, message) ->
          ErrorResponse.of(ErrorResponse.typeOf(status), message, null));
      Refusals.install(cfg);
      cfg.staticFiles.add(files -> {
        files.hostedPath = CONSOLE;
        files.directory = CONSOLE;
        files.location = Location.CLASSPATH;
        files.headers = CONSOLE_HEADERS;
      });
    });
    for (Route route : routes) {
      server.addHttpHandler(HandlerType.valueOf(route.method()), route.path(), ctx -> {
        if (!keys.current()) {
          throw new ApiError(503, "unavailable_error", "admin-api cannot confirm with Kafka that its copy of the API"
              + " keys is current, so it cannot tell a revoked admin key from a valid one; retry", null);
        }
        Principal principal = auth.authenticate(Credentials.headers(ctx, "Authorization"),
            Credentials.headers(ctx, "x-api-key"));
        QueryStrings.repeated(ctx.queryParamMap()).ifPresent(e -> {
          throw ApiError.invalid(e.field(), e.message());
        });
        boolean change = !route.method().equals("GET");
        if (change) {
          changeRates.take(principal.orgId()).ifPresent(seconds -> {
            ctx.header("Retry-After", Long.toString(seconds));
            throw new ApiError(429, "rate_limit_error", "this organisation made more than "
                + config.changesPerOrgPerMinute() + " changes in a minute (ADMIN_MAX_CHANGES_PER_ORG_PER_MINUTE);"
                + " retry in " + seconds + " s", null);
          });
        }
        Object body;
        try {
          body = route.handler().handle(ctx, principal);
        } catch (RuntimeException refusedOrFailed) {
          if (change) {
            changeRates.giveBack(principal.orgId()); // it changed nothing
          }
          throw refusedOrFailed;
        }
        if (body instanceof java.io.InputStream stream) {
          ctx.status(route.successStatus()).contentType("application/json");
          try (stream) {
            stream.transferTo(ctx.outputStream());
          }
        } else {
          ctx.status(route.successStatus()).json(body);
        }
      });
    }
    new IngestRoutes(config, keys, reporter, json, clock).register(server);
    server.get("/openapi.json", ctx -> ctx.json(openApi));
    server.get("/health/live", ctx -> ctx.json(Health.of(true)));
    server.get("/health/ready", ctx -> {
      boolean ready = keys.loaded() && rules.loaded() && budgets.loaded() && keys.healthy() && rules.healthy()
          && budgets.healthy() && writer.healthy() && keys.current();
      ctx.status(ready ? 200 : 503).json(Health.of(ready));
    });
    server.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape()));
    server.before(ctx -> ctx.attribute(STARTED, System.nanoTime()));
    server.after(ctx -> {
      Long started = ctx.attribute(STARTED);
      if (started != null) {
        ServiceMetrics.httpRequest(metrics, "admin-api", ctx.method().name(), ctx.endpointHandlerPath(),
            ctx.statusCode(), System.nanoTime() - started);
      }
    });
    server.exception(ApiError.class, (e, ctx) -> {
      if (e.status() == 503) {
        ctx.header("Retry-After", "1");
      }
      ctx.status(e.status()).json(ErrorResponse.of(e.type(), e.getMessage(), e.field()));
    });
    server.exception(Exception.class, (e, ctx) -> {
      log.error("{} {} failed", ctx.method(), ctx.endpointHandlerPath(), e);
      ctx.status(500).json(ErrorResponse.of("api_error", "internal error; see the admin-api log", null));
    });
    // Javalin's own refusals (no such endpoint, a method the path does not take, a body over its size limit)
    // in the same shape as ours
    server.exception(HttpResponseException.class, (e, ctx) -> ctx.status(e.getStatus())
        .json(ErrorResponse.of(ErrorResponse.typeOf(e.getStatus()), describe(e, ctx), null)));
  }

  /** Loads the key and rule tables, makes sure the bootstrap admin key exists, and starts serving. */
  public static AdminApi start(AdminConfig config, Clock clock) throws InterruptedException {
    AdminApi api = new AdminApi(config, clock);
    api.bootstrapAdminKey();
    api.server.start(config.httpBind(), config.httpPort());
    log.info("admin-api listening on {}:{}", config.httpBind(), api.server.port());
    return api;
  }

  public int port() {
    return server.port();
  }

  private static String describe(HttpResponseException e, Context ctx) {
    return e.getStatus() == 413 ? "the request body is larger than " + MAX_REQUEST_BYTES + " bytes"
        : Refusals.describe(e, ctx);
  }

  /** The routes served, as listed in /openapi.json. */
  public List<Route> routes() {
    return List.copyOf(routes);
  }

  /**
   * Creates an admin key for {@code orgId} acting as {@code adminEmail} and returns its secret; for
   * provisioning organisations (and tests). The secret is returned once and stored only hashed.
   */
  public String provisionAdminKey(String orgId, String adminEmail) {
    Principal system = new Principal(orgId, SYSTEM_ACTOR, "-");
    return keyRoutes.createAdmin(system, adminEmail).key();
  }

  /**
   * Creates the bootstrap admin key if it does not exist. An existing one is never rewritten: a
   * bootstrap key that was revoked or rotated stays so, even while METERING_BOOTSTRAP_ADMIN_KEY
   * still holds its old secret (compose sets it on every start).
   */
  private void bootstrapAdminKey() {
    String id = "key_admin_" + Secrets.hash(config.bootstrapOrgId()).substring(0, 16);
    Optional<ApiKey> existing = keys.get(id);
    if (existing.isPresent()) {
      ApiKey key = existing.get();
      boolean given = config.bootstrapAdminKey().isPresent();
      if (given && key.getStatus() != ApiKeyStatus.ACTIVE) {
        log.warn("METERING_BOOTSTRAP_ADMIN_KEY is set but the bootstrap admin key of {} was revoked; it stays revoked"
            + " (unset the variable)", config.bootstrapOrgId());
      } else if (given && !Secrets.sameHash(Secrets.hash(config.bootstrapAdminKey().get()), key.getSecretHash())) {
        log.warn("METERING_BOOTSTRAP_ADMIN_KEY is set but the bootstrap admin key of {} was rotated; the variable's"
            + " secret is not restored (unset the variable)", config.bootstrapOrgId());
      } else {
        log.info("bootstrap admin key of {} exists; its secret was shown when it was created", config.bootstrapOrgId());
      }
      return;
    }
    Principal system = new Principal(config.bootstrapOrgId(), SYSTEM_ACTOR, "-");
    String secret = config.bootstrapAdminKey().orElseGet(Secrets::generate);
    try {
      keyRoutes.putBootstrap(id, config.bootstrapOrgId(), config.bootstrapAdminEmail(), secret, system);
    } catch (ApiError e) {
      if (e.status() != 409) {
        throw e;
      }
      // the write is conditional on the key not existing: another instance created it meanwhile
      log.info("bootstrap admin key of {} was created by another admin-api instance", config.bootstrapOrgId());
      return;
    }
    if (config.bootstrapAdminKey().isPresent()) {
      log.info("bootstrap admin key of {} created from METERING_BOOTSTRAP_ADMIN_KEY", config.bootstrapOrgId());
      return;
    }
    // Printed once, to the console only, the way a first-run password is: it is stored hashed.
    System.out.println();
    System.out.println("  Bootstrap admin key for organisation " + config.bootstrapOrgId() + " (shown only now):");
    System.out.println("    " + secret);
    System.out.println();
  }

  /** The OpenAPI document of the admin API: the route table's operations and the gateways' ingest. */
  static Map<String, Object> openApi(List<Route> routes) {
    List<OpenApi.Operation> operations = new ArrayList<>();
    routes.forEach(route -> operations.add(route.operation()));
    operations.add(IngestRoutes.operation());
    return OpenApi.document(new OpenApi.Info("Token metering admin API", VERSION, "API keys, limits, alert rules, usage"
            + " and the audit log of an organisation, and usage ingest for gateways. Every admin call is scoped to the"
            + " organisation of the admin key it presents.", "/", "the admin-api serving this document"),
        Map.of(
            "adminKey", Map.of("type", "http", "scheme", "bearer", "description",
                "an admin key of the organisation (Authorization: Bearer <key>; x-api-key: <key> also works; two"
                    + " different keys in one request are refused)"),
            "gatewayToken", Map.of("type", "http", "scheme", "bearer", "description",
                "a gateway's token from GATEWAY_TOKENS, bound to its organisations")),
        ErrorResponse.class, operations);
  }

  @Override
  public void close() {
    server.stop();
    reporter.close();
    auditLog.close();
    keys.close();
    rules.close();
    budgets.close();
    writer.close();
    ServiceMetrics.detach(metrics);
    metrics.close();
  }
}
