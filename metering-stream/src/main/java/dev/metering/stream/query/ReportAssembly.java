package dev.metering.stream.query;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Lays bucket contents out as a report page: every bucket of the page, empty ones too, in time order. */
final class ReportAssembly {

  /** By api_key_id, then model, absent ones first; written out because an org report sorts 10^5 results. */
  private static final Comparator<Views.Result> BY_GROUP = (a, b) -> {
    int byKey = compareNullsFirst(a.apiKeyId(), b.apiKeyId());
    return byKey != 0 ? byKey : compareNullsFirst(a.model(), b.model());
  };

  private ReportAssembly() {
  }

  static Views.Report report(ReportRequest request, Map<Long, List<Views.Result>> byStart, Views.Freshness freshness) {
    return layOut(request, byStart, freshness, true);
  }

  /** A page of one instance's results for {@link #merge}, which sorts them: left unsorted here. */
  static Views.Report partial(ReportRequest request, Map<Long, List<Views.Result>> byStart,
      Views.Freshness freshness) {
    return layOut(request, byStart, freshness, false);
  }

  private static Views.Report layOut(ReportRequest request, Map<Long, List<Views.Result>> byStart,
      Views.Freshness freshness, boolean sorted) {
    List<Views.Bucket> data = new ArrayList<>();
    long width = request.width().millis();
    for (long start = request.pageStart().toEpochMilli(); start < request.pageEnd().toEpochMilli(); start += width) {
      List<Views.Result> results = new ArrayList<>(byStart.getOrDefault(start, List.of()));
      if (sorted) {
        results.sort(BY_GROUP);
      }
      data.add(new Views.Bucket(Instant.ofEpochMilli(start), Instant.ofEpochMilli(start + width), results));
    }
    String next = request.nextPage();
    return new Views.Report(data, next != null, next, freshness.asOf(), freshness.stale());
  }

  /** Merges partial pages of the same request from several instances: results per bucket are concatenated. */
  static Views.Report merge(ReportRequest request, List<Views.Report> partials) {
    Map<Long, List<Views.Result>> byStart = new HashMap<>();
    Views.Freshness freshness = null;
    for (Views.Report partial : partials) {
      for (Views.Bucket bucket : partial.data()) {
        byStart.computeIfAbsent(bucket.startingAt().toEpochMilli(), s -> new ArrayList<>()).addAll(bucket.results());
      }
      Views.Freshness f = new Views.Freshness(partial.asOf(), partial.stale());
      freshness = freshness == null ? f : Views.Freshness.min(freshness, f);
    }
    return report(request, byStart, freshness == null ? new Views.Freshness(null, false) : freshness);
  }

  private static int compareNullsFirst(String a, String b) {
    if (a == null || b == null) {
      return a == null ? (b == null ? 0 : -1) : 1;
    }
    return a.compareTo(b);
  }
}
