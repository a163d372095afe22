package dev.metering.stream.query;

import dev.metering.api.query.ReportBucket;
import dev.metering.api.query.ReportResult;
import dev.metering.api.query.UsageReport;
import dev.metering.api.query.UsageView;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.metering.json.Json;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ClosedBucketsTest {

  private static final ObjectMapper JSON = Json.mapper();
  private final AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-11-20T12:00:00Z"));
  private final Clock clock = new Clock() {
    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now.get();
    }
  };

  @Test
  void shouldRenderAReportWithRenderedBucketsExactlyAsTheReportItself() throws Exception {
    ReportBucket first = bucket("2026-11-01T00:00:00Z", "key-1", "key-2");
    ReportBucket second = bucket("2026-11-02T00:00:00Z", "key-2");
    UsageReport report = new UsageReport(List.of(first, second), true, "token", Instant.parse("2026-11-20T10:00:00Z"),
        false);

    List<Object> data = new ArrayList<>();
    data.add(new RawValue(new RawJson(JSON.writeValueAsBytes(first))));
    data.add(second);
    RenderedReport rendered = new RenderedReport(data, true, "token", report.asOf(), false);

    assertEquals(JSON.writeValueAsString(report), JSON.writeValueAsString(rendered));
    assertArrayEquals(JSON.writeValueAsBytes(report), JSON.writeValueAsBytes(rendered));
  }

  @Test
  void shouldCopyARenderedBucketLargerThanTheWritersBuffer() throws Exception {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      keys.add(String.format("key-%05d", i));
    }
    ReportBucket big = bucket("2026-11-01T00:00:00Z", keys.toArray(String[]::new));
    byte[] rendered = JSON.writeValueAsBytes(big);

    String out = JSON.writeValueAsString(Map.of("data", List.of(new RawValue(new RawJson(rendered)))));

    assertEquals("{\"data\":[" + JSON.writeValueAsString(big) + "]}", out);
  }

  @Test
  void shouldForgetEntriesAfterTheirTimeToLive() {
    ClosedBuckets cache = new ClosedBuckets(1_000, clock);
    ClosedBuckets.Key key = new ClosedBuckets.Key("org-1", 86_400_000L, 0);
    cache.put(key, new byte[10]);

    now.set(now.get().plus(ClosedBuckets.TTL));
    assertEquals(10, cache.get(key).length);
    now.set(now.get().plus(Duration.ofMillis(1)));

    assertNull(cache.get(key));
    assertEquals(0, cache.bytes());
    assertEquals(1, cache.hits());
    assertEquals(1, cache.misses());
  }

  @Test
  void shouldDropTheLeastRecentlyUsedWhenTheBudgetIsFull() {
    ClosedBuckets cache = new ClosedBuckets(100, clock);
    ClosedBuckets.Key a = new ClosedBuckets.Key("org-1", 1, 0);
    ClosedBuckets.Key b = new ClosedBuckets.Key("org-1", 1, 1);
    ClosedBuckets.Key c = new ClosedBuckets.Key("org-1", 1, 2);
    cache.put(a, new byte[40]);
    cache.put(b, new byte[40]);
    cache.get(a);
    cache.put(c, new byte[40]);

    assertNull(cache.get(b), "least recently used");
    assertEquals(40, cache.get(a).length);
    assertEquals(40, cache.get(c).length);
    assertEquals(80, cache.bytes());

    cache.put(a, new byte[101]);
    assertEquals(40, cache.get(a).length, "larger than the whole budget: not kept, the old entry stays");
  }

  @Test
  void shouldReplaceTheQueryParametersThatSelectAPage() {
    Map<String, String> page = new LinkedHashMap<>();
    page.put("limit", "3");
    page.put("page", "abc");

    assertEquals("/v1/orgs/o/usage_report?bucket_width=1d&starting_at=2026-11-01T00%3A00%3A00Z&group_by=api_key_id"
            + "&limit=3&page=abc",
        ClosedBucketReports.withParams("/v1/orgs/o/usage_report?bucket_width=1d&limit=31"
            + "&starting_at=2026-11-01T00%3A00%3A00Z&page=old&group_by=api_key_id", page));
    assertEquals("/v1/orgs/o/usage_report?page=abc",
        ClosedBucketReports.withParams("/v1/orgs/o/usage_report", Map.of("page", "abc")));
  }

  private static ReportBucket bucket(String start, String... keys) {
    List<ReportResult> results = new ArrayList<>();
    long n = 1;
    for (String key : keys) {
      results.add(new ReportResult(key, null, UsageView.of(n * 1000, n * 10, 0, 5, n, n * 1234, 0)));
      n++;
    }
    Instant s = Instant.parse(start);
    return new ReportBucket(s, s.plus(Duration.ofDays(1)), results);
  }
}
