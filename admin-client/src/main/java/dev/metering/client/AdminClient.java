package dev.metering.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.admin.AlertInfo;
import dev.metering.api.admin.AlertList;
import dev.metering.api.admin.ApiKeyInfo;
import dev.metering.api.admin.ApiKeyList;
import dev.metering.api.admin.AuditLogEntry;
import dev.metering.api.admin.AuditLogPage;
import dev.metering.api.admin.CreateAlert;
import dev.metering.api.admin.CreateApiKey;
import dev.metering.api.admin.DeletedAlert;
import dev.metering.api.admin.KeyUsage;
import dev.metering.api.admin.OrgBudgetInfo;
import dev.metering.api.admin.OrgCurrentPeriod;
import dev.metering.api.admin.RotateApiKey;
import dev.metering.api.admin.UsageByKey;
import dev.metering.api.admin.UsageSummary;
import dev.metering.api.query.CurrentPeriod;
import dev.metering.api.query.ReportBucket;
import dev.metering.api.query.UsageReport;
import dev.metering.json.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Java client of the admin API over {@code java.net.http}:
 * <pre>
 * AdminClient client = AdminClient.create("http://localhost:8080", adminKey);
 * ApiKeyInfo key = client.apiKeys().create(CreateApiKey.named("ci").maxTokensPerMonth(10_000_000L).hardLimit(true));
 * UsageSummary usage = client.usage().retrieve(LocalDate.parse("2026-11-01"), LocalDate.parse("2026-11-30"));
 * </pre>
 * Requests and answers are the records of {@code api-model}, the same the server writes. Errors
 * are {@link AdminApiException}s by status; list calls page lazily as an {@link Iterable}.
 */
public final class AdminClient {

  private final URI base;
  private final String adminKey;
  private final HttpClient http;
  private final ObjectMapper json = Json.mapper();

  private AdminClient(URI base, String adminKey, Duration timeout) {
    this.base = base;
    this.adminKey = Objects.requireNonNull(adminKey, "adminKey");
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  public static AdminClient create(String baseUrl, String adminKey) {
    return new AdminClient(URI.create(baseUrl.endsWith("/") ? baseUrl : baseUrl + "/"), adminKey, Duration.ofSeconds(10));
  }

  public ApiKeys apiKeys() {
    return new ApiKeys();
  }

  public Usage usage() {
    return new Usage();
  }

  public Budget budget() {
    return new Budget();
  }

  public Alerts alerts() {
    return new Alerts();
  }

  public AuditLogs auditLogs() {
    return new AuditLogs();
  }

  /**
   * The changes of an update (the fields of its request record): fields not set stay as they are,
   * and one set to {@code null} is cleared, which a record cannot say.
   */
  public abstract static class Changes<T extends Changes<T>> {
    private final Set<String> names;
    final Map<String, Object> fields = new LinkedHashMap<>();

    Changes(Class<? extends Record> request) {
      this.names = Json.fieldNames(request);
    }

    @SuppressWarnings("unchecked")
    T set(String field, Object value) {
      if (!names.contains(field)) {
        throw new IllegalStateException(field + " is not a field of an update");
      }
      fields.put(field, value);
      return (T) this;
    }
  }

  /** Changes of monthly limits: a key's limits and the organisation's budget have the same three fields. */
  public abstract static class LimitChanges<T extends LimitChanges<T>> extends Changes<T> {
    LimitChanges(Class<? extends Record> request) {
      super(request);
    }

    /** {@code null} removes the token limit. */
    public T maxTokensPerMonth(Long tokens) {
      return set("max_tokens_per_month", tokens);
    }

    /** Dollars as a decimal string ("12.50"); {@code null} removes the cost limit. */
    public T maxCostPerMonth(String dollars) {
      return set("max_cost_per_month", dollars);
    }

    public T hardLimit(boolean hard) {
      return set("hard_limit", hard);
    }
  }

  /** The changes of an API key's update ({@link dev.metering.api.admin.UpdateApiKey}'s fields). */
  public static final class UpdateApiKey extends LimitChanges<UpdateApiKey> {
    private UpdateApiKey() {
      super(dev.metering.api.admin.UpdateApiKey.class);
    }

    public static UpdateApiKey changes() {
      return new UpdateApiKey();
    }

    public UpdateApiKey name(String name) {
      return set("name", name);
    }

    /** {@code null} clears the description. */
    public UpdateApiKey description(String description) {
      return set("description", description);
    }

    public UpdateApiKey permissions(String... permissions) {
      return set("permissions", List.of(permissions));
    }
  }

  /** The changes of the organisation's budget ({@link dev.metering.api.admin.UpdateOrgBudget}'s fields). */
  public static final class UpdateOrgBudget extends LimitChanges<UpdateOrgBudget> {
    private UpdateOrgBudget() {
      super(dev.metering.api.admin.UpdateOrgBudget.class);
    }

    public static UpdateOrgBudget changes() {
      return new UpdateOrgBudget();
    }
  }

  /** The organisation's monthly budget over all its keys. */
  public final class Budget {
    private static final String PATH = "v1/organizations/budget";

    public OrgBudgetInfo get() {
      return send("GET", PATH, null, OrgBudgetInfo.class);
    }

    public OrgBudgetInfo update(UpdateOrgBudget changes) {
      return send("POST", PATH, changes.fields, OrgBudgetInfo.class);
    }
  }

  /** API keys of the caller's organisation. */
  public final class ApiKeys {
    private static final String PATH = "v1/organizations/api_keys";

    public ApiKeyInfo create(CreateApiKey request) {
      return send("POST", PATH, request, ApiKeyInfo.class);
    }

    public ApiKeyInfo get(String id) {
      return send("GET", PATH + "/" + encode(id), null, ApiKeyInfo.class);
    }

    /** Every key, newest first, fetched a page at a time; {@code status} may be null, "active" or "revoked". */
    public Iterable<ApiKeyInfo> list(String status) {
      return pages(after -> PATH + query(Map.of("status", status == null ? "" : status, "limit", "100",
          "after_id", after == null ? "" : after)), ApiKeyList.class,
          page -> new Page<>(page.data(), page.hasMore(), page.lastId()));
    }

    public ApiKeyInfo update(String id, UpdateApiKey changes) {
      return send("POST", PATH + "/" + encode(id), changes.fields, ApiKeyInfo.class);
    }

    /** The key's month so far against its token and cost limits, and its projected month end. */
    public CurrentPeriod currentPeriod(String id) {
      return send("GET", PATH + "/" + encode(id) + "/current_period", null, CurrentPeriod.class);
    }

    public ApiKeyInfo revoke(String id) {
      return send("POST", PATH + "/" + encode(id) + "/revoke", null, ApiKeyInfo.class);
    }

    /** A new secret for the same key; the old one keeps working for {@code gracePeriod}. */
    public ApiKeyInfo rotate(String id, Duration gracePeriod) {
      return send("POST", PATH + "/" + encode(id) + "/rotate", new RotateApiKey(gracePeriod.toSeconds()),
          ApiKeyInfo.class);
    }
  }

  /** Usage and estimated cost; both dates are included. */
  public final class Usage {
    /** The organisation's month so far and its projected end. */
    public OrgCurrentPeriod currentPeriod() {
      return send("GET", "v1/organizations/current_period", null, OrgCurrentPeriod.class);
    }

    public UsageSummary retrieve(LocalDate startDate, LocalDate endDate) {
      return send("GET", "v1/organizations/usage" + query(Map.of("start_date", startDate.toString(),
          "end_date", endDate.toString())), null, UsageSummary.class);
    }

    public List<KeyUsage> byKey(LocalDate startDate, LocalDate endDate) {
      return send("GET", "v1/organizations/usage/by_key" + query(Map.of("start_date", startDate.toString(),
          "end_date", endDate.toString())), null, UsageByKey.class).data();
    }

    /**
     * The org's usage in {@code bucketWidth} ("1h" or "1d") buckets, fetched a page at a time;
     * {@code groupBy} is null, "model" or "api_key_id" (pages of keys: a bucket may come once per page).
     */
    public Iterable<ReportBucket> report(Instant startingAt, Instant endingAt, String bucketWidth, String groupBy) {
      return reportPages("v1/organizations/usage_report", startingAt, endingAt, bucketWidth, groupBy);
    }

    /** One key's usage in buckets, as {@link #report}; {@code groupBy} is null or "model". */
    public Iterable<ReportBucket> keyReport(String keyId, Instant startingAt, Instant endingAt, String bucketWidth,
        String groupBy) {
      return reportPages("v1/organizations/api_keys/" + encode(keyId) + "/usage_report", startingAt, endingAt,
          bucketWidth, groupBy);
    }

    private Iterable<ReportBucket> reportPages(String path, Instant startingAt, Instant endingAt, String bucketWidth,
        String groupBy) {
      return pages(page -> path + query(Map.of("starting_at", startingAt.toString(),
          "ending_at", endingAt == null ? "" : endingAt.toString(), "bucket_width", Objects.toString(bucketWidth, ""),
          "group_by", Objects.toString(groupBy, ""), "page", page == null ? "" : page)), UsageReport.class,
          page -> new Page<>(page.data(), page.hasMore(), page.nextPage()));
    }
  }

  /** Threshold alert rules. */
  public final class Alerts {
    /** @param keyId the key whose limits the rule watches; null for a rule on the organisation's budget */
    public AlertInfo create(String name, String keyId, int thresholdPercent, String notificationEmail, String webhookUrl) {
      return send("POST", "v1/organizations/alerts", new CreateAlert(name, keyId, thresholdPercent, notificationEmail,
          webhookUrl), AlertInfo.class);
    }

    public List<AlertInfo> list() {
      return send("GET", "v1/organizations/alerts", null, AlertList.class).data();
    }

    public void delete(String id) {
      send("DELETE", "v1/organizations/alerts/" + encode(id), null, DeletedAlert.class);
    }

    /** A new webhook signing secret for the rule, in the answer's {@code webhookSecret} (shown this once). */
    public AlertInfo rotateSecret(String id) {
      return send("POST", "v1/organizations/alerts/" + encode(id) + "/rotate_secret", null, AlertInfo.class);
    }
  }

  /** The audit log, newest first. */
  public final class AuditLogs {
    public Iterable<AuditLogEntry> list(LocalDate startDate, LocalDate endDate, String... eventTypes) {
      return pages(page -> "v1/organizations/audit_logs" + query(Map.of("start_date", startDate.toString(),
          "end_date", endDate.toString(), "event_types", String.join(",", eventTypes), "limit", "200",
          "page", page == null ? "" : page)), AuditLogPage.class,
          page -> new Page<>(page.data(), page.hasMore(), page.nextPage()));
    }
  }

  /** A page's items, whether more follow, and the cursor that asks for them. */
  private record Page<T>(List<T> data, boolean hasMore, String cursor) {
  }

  private <P, T> Iterable<T> pages(Function<String, String> pathForCursor, Class<P> pageType,
      Function<P, Page<T>> read) {
    return () -> new Iterator<>() {
      private Iterator<T> current = List.<T>of().iterator();
      private String cursor;
      private boolean more = true;

      @Override
      public boolean hasNext() {
        while (!current.hasNext() && more) {
          Page<T> page = read.apply(send("GET", pathForCursor.apply(cursor), null, pageType));
          current = page.data().iterator();
          more = page.hasMore();
          cursor = page.cursor();
        }
        return current.hasNext();
      }

      @Override
      public T next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return current.next();
      }
    };
  }

  private <T> T send(String method, String path, Object body, Class<T> type) {
    try {
      HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path))
          .timeout(Duration.ofSeconds(30))
          .header("Authorization", "Bearer " + adminKey)
          .header("Accept", "application/json");
      if (body != null) {
        request.header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofByteArray(json.writeValueAsBytes(body)));
      } else if (method.equals("POST")) {
        request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString("{}"));
      } else {
        request.method(method, HttpRequest.BodyPublishers.noBody());
      }
      HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() >= 400) {
        JsonNode error = json.readTree(response.body()).path("error");
        throw AdminApiException.of(response.statusCode(), error.path("type").asText("api_error"),
            error.path("message").asText(response.body()), error.path("field").asText(null));
      }
      return json.readValue(response.body(), type);
    } catch (IOException e) {
      throw new AdminApiException(0, "connection_error", "cannot reach the admin API at " + base + ": "
          + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AdminApiException(0, "connection_error", "interrupted", null);
    }
  }

  private static String query(Map<String, String> params) {
    String query = params.entrySet().stream()
        .filter(e -> e.getValue() != null && !e.getValue().isEmpty())
        .sorted(Map.Entry.comparingByKey())
        .map(e -> e.getKey() + "=" + encode(e.getValue()))
        .collect(Collectors.joining("&"));
    return query.isEmpty() ? "" : "?" + query;
  }

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }
}
