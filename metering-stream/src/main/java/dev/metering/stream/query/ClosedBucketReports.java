package dev.metering.stream.query;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.metering.api.query.ReportBucket;
import dev.metering.api.query.UsageReport;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Org reports by key whose final buckets come rendered from {@link ClosedBuckets}: only the
 * buckets from the first one not there to the end of the page are read (the last one always,
 * for as_of), and those found final are kept. Final means before every partition's stream time
 * minus the late grace, measured before the read, with every partition read exactly once.
 */
final class ClosedBucketReports {

  /** Reads this instance's part of an org report by key. */
  @FunctionalInterface
  interface LocalReport {
    UsageReport read(ReportRequest request);
  }

  private final ClosedBuckets closed;
  private final QueryRouter router;
  private final ObjectMapper json;
  private final Clock clock;

  ClosedBucketReports(ClosedBuckets closed, QueryRouter router, ObjectMapper json, Clock clock) {
    this.closed = closed;
    this.router = router;
    this.json = json;
    this.clock = clock;
  }

  RenderedReport orgReportByKey(String orgId, ReportRequest request, QueryService.Call call, LocalReport local) {
    long width = request.width().millis();
    List<Object> data = new ArrayList<>();
    long readFrom = request.pageStart().toEpochMilli();
    for (; readFrom + width < request.pageEnd().toEpochMilli(); readFrom += width) {
      byte[] rendered = closed.get(new ClosedBuckets.Key(orgId, width, readFrom));
      if (rendered == null) {
        break;
      }
      data.add(new RawValue(new RawJson(rendered)));
    }
    Map<String, String> subPage = Map.of("page", ReportRequest.pageToken(Instant.ofEpochMilli(readFrom)),
        "limit", Long.toString((request.pageEnd().toEpochMilli() - readFrom) / width));
    Function<String, String> subParams = name -> subPage.containsKey(name) ? subPage.get(name) : call.param().apply(name);
    ReportRequest sub = ReportRequest.parse(subParams, Set.of("api_key_id", "model"), clock.instant());
    List<Part<UsageReport>> parts = router.gather(withParams(call.pathAndQuery(), subPage), UsageReport.class,
        () -> local.read(sub));
    UsageReport merged = ReportAssembly.merge(sub, parts.stream().map(Part::body).toList());
    Long closedBefore = merged.stale() ? null : router.closedBefore(parts);
    for (ReportBucket bucket : merged.data()) {
      if (closedBefore != null && bucket.endingAt().toEpochMilli() <= closedBefore) {
        byte[] rendered = render(bucket);
        closed.put(new ClosedBuckets.Key(orgId, width, bucket.startingAt().toEpochMilli()), rendered);
        data.add(new RawValue(new RawJson(rendered)));
      } else {
        data.add(bucket);
      }
    }
    String next = request.nextPage();
    return new RenderedReport(data, next != null, next, merged.asOf(), merged.stale());
  }

  private byte[] render(ReportBucket bucket) {
    try {
      return json.writeValueAsBytes(bucket);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render a report bucket", e);
    }
  }

  /** {@code pathAndQuery} with each of {@code params} set to its (URL-safe) value. */
  static String withParams(String pathAndQuery, Map<String, String> params) {
    int q = pathAndQuery.indexOf('?');
    StringBuilder out = new StringBuilder(q < 0 ? pathAndQuery : pathAndQuery.substring(0, q)).append('?');
    if (q >= 0) {
      for (String pair : pathAndQuery.substring(q + 1).split("&")) {
        String name = pair.contains("=") ? pair.substring(0, pair.indexOf('=')) : pair;
        if (!pair.isEmpty() && !params.containsKey(name)) {
          out.append(pair).append('&');
        }
      }
    }
    params.forEach((name, value) -> out.append(name).append('=').append(value).append('&'));
    return out.substring(0, out.length() - 1);
  }
}
