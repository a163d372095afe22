package dev.metering.stream.query;

import dev.metering.api.query.Freshness;
import dev.metering.api.query.ReportBucket;
import dev.metering.api.query.ReportResult;
import dev.metering.api.query.UsageReport;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Lays bucket contents out as a report page: every bucket of the page, empty ones too, in time order. */
final class ReportAssembly {

  /** By api_key_id, then model, absent ones first; written out because an org report sorts 10^5 results. */
  private static final Comparator<ReportResult> BY_GROUP = (a, b) -> {
    int byKey = compareNullsFirst(a.apiKeyId(), b.apiKeyId());
    return byKey != 0 ? byKey : compareNullsFirst(a.model(), b.model());
  };

  private ReportAssembly() {
  }

  static UsageReport report(ReportRequest request, Map<Long, List<ReportResult>> byStart, Freshness freshness) {
    return layOut(request, byStart, freshness, true);
  }

  /** A page of one instance's results for {@link #merge}, which sorts them: left unsorted here. */
  static UsageReport partial(ReportRequest request, Map<Long, List<ReportResult>> byStart,
      Freshness freshness) {
    return layOut(request, byStart, freshness, false);
  }

  private static UsageReport layOut(ReportRequest request, Map<Long, List<ReportResult>> byStart,
      Freshness freshness, boolean sorted) {
    List<ReportBucket> data = new ArrayList<>();
    long width = request.width().millis();
    for (long start = request.pageStart().toEpochMilli(); start < request.pageEnd().toEpochMilli(); start += width) {
      List<ReportResult> results = new ArrayList<>(byStart.getOrDefault(start, List.of()));
      if (sorted) {
        results.sort(BY_GROUP);
      }
      data.add(new ReportBucket(Instant.ofEpochMilli(start), Instant.ofEpochMilli(start + width), results));
    }
    String next = request.nextPage();
    return new UsageReport(data, next != null, next, freshness.asOf(), freshness.stale());
  }

  /** Merges partial pages of the same request from several instances: results per bucket are concatenated. */
  static UsageReport merge(ReportRequest request, List<UsageReport> partials) {
    Map<Long, List<ReportResult>> byStart = new HashMap<>();
    Freshness freshness = null;
    for (UsageReport partial : partials) {
      for (ReportBucket bucket : partial.data()) {
        byStart.computeIfAbsent(bucket.startingAt().toEpochMilli(), s -> new ArrayList<>()).addAll(bucket.results());
      }
      Freshness f = new Freshness(partial.asOf(), partial.stale());
      freshness = freshness == null ? f : Freshness.min(freshness, f);
    }
    return report(request, byStart, freshness == null ? new Freshness(null, false) : freshness);
  }

  private static int compareNullsFirst(String a, String b) {
    if (a == null || b == null) {
      return a == null ? (b == null ? 0 : -1) : 1;
    }
    return a.compareTo(b);
  }
}
