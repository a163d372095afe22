package dev.metering.stream.query;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Lays bucket contents out as a report page: every bucket of the page, empty ones too, in time order. */
final class ReportAssembly {

  private static final Comparator<Views.Result> BY_GROUP = Comparator
      .comparing(Views.Result::apiKeyId, Comparator.nullsFirst(Comparator.naturalOrder()))
      .thenComparing(Views.Result::model, Comparator.nullsFirst(Comparator.naturalOrder()));

  private ReportAssembly() {
  }

  static Views.Report report(ReportRequest request, Map<Long, List<Views.Result>> byStart, Views.Freshness freshness) {
    List<Views.Bucket> data = new ArrayList<>();
    long width = request.width().millis();
    for (long start = request.pageStart().toEpochMilli(); start < request.pageEnd().toEpochMilli(); start += width) {
      List<Views.Result> results = new ArrayList<>(byStart.getOrDefault(start, List.of()));
      results.sort(BY_GROUP);
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
}
