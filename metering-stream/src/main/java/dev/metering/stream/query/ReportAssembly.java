package dev.metering.stream.query;

import dev.metering.api.query.Freshness;
import dev.metering.api.query.ReportBucket;
import dev.metering.api.query.ReportResult;
import dev.metering.api.query.UsageReport;
import dev.metering.api.query.UsageView;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

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

  /**
   * A page of a report grouped by key from {@code candidates}: usage per bucket start of keys after
   * the request's cursor, in key order (code point order: the stores' byte order), of which the first
   * {@code limit} make the page. A key among the first {@code limit} has all its buckets here as long
   * as each bucket contributed its first {@code limit} keys after the cursor.
   */
  static UsageReport keyPage(ReportRequest request, SortedMap<String, Map<Long, UsageView>> candidates,
      Freshness freshness) {
    Map<Long, DayResults<ReportResult>> byDay = new TreeMap<>();
    candidates.forEach((key, days) -> days.forEach((start, usage) -> {
      DayResults<ReportResult> day = byDay.computeIfAbsent(start, s -> new DayResults<>(s, new ArrayList<>(),
          new ArrayList<>(), 0));
      day.keys().add(key);
      day.results().add(new ReportResult(key, null, usage));
    }));
    KeyPage<ReportResult> page = keysOfPage(request, new ArrayList<>(byDay.values()));
    return new UsageReport(buckets(request, page.byStart(), false), page.next() != null, page.next(),
        freshness.asOf(), freshness.stale());
  }

  /**
   * One day of an org's results by key: {@code keys} in {@link #KEY_ORDER} from index {@code from}
   * on (the first after the request's cursor) and {@code results}, key {@code keys[i]}'s at {@code i}.
   */
  record DayResults<R>(long start, List<String> keys, List<R> results, int from) {
  }

  /** The results of a page of keys per bucket start, and the cursor of the page after it (null: the last). */
  record KeyPage<R>(Map<Long, List<R>> byStart, String next) {
  }

  /**
   * The page's keys are the first {@code limit} of all days' keys after the cursor together (see
   * {@link #pageEnd}); a day's results on the page are those of its keys up to the page's last.
   */
  static <R> KeyPage<R> keysOfPage(ReportRequest request, List<DayResults<R>> days) {
    PageEnd end = pageEnd(request.limit(), days, List.of(), 0);
    return new KeyPage<>(onPage(days, end), end.next(request));
  }

  /**
   * A page of an org's report by key from its days kept rendered ({@code sealed}, whose keys
   * together are {@code sealedKeys}: a page walks them as one list, not day by day) and the days
   * read now ({@code readNow}: each a page's worth of keys after the cursor). Sealed days have the
   * cursor applied here, by index.
   */
  static RenderedReport orgPage(ReportRequest request, Map<Long, SealedDays.Day> sealed, List<String> sealedKeys,
      List<DayResults<ReportResult>> readNow, Freshness freshness) {
    String after = request.afterKey();
    PageEnd end = pageEnd(request.limit(), readNow, sealedKeys, after == null ? 0 : firstAfter(sealedKeys, after));
    Map<Long, Object> byStart = new HashMap<>(onPage(readNow, end));
    sealed.forEach((start, day) -> {
      int first = after == null ? 0 : firstAfter(day.keys(), after);
      byStart.put(start, day.results(first, end.of(day.keys(), first)));
    });
    String next = end.next(request);
    return new RenderedReport(buckets(request, byStart, List.of(), RenderedReport.Bucket::new), next != null, next,
        freshness.asOf(), freshness.stale());
  }

  /** The end of a page over {@code days} and, walked with them, {@code more} keys from index {@code moreFrom}. */
  private static <R> PageEnd pageEnd(int limit, List<DayResults<R>> days, List<String> more, int moreFrom) {
    List<List<String>> lists = new ArrayList<>(days.size() + 1);
    int[] from = new int[days.size() + 1];
    lists.add(more);
    from[0] = moreFrom;
    for (int d = 0; d < days.size(); d++) {
      lists.add(days.get(d).keys());
      from[d + 1] = days.get(d).from();
    }
    return pageEnd(limit, lists, from);
  }

  /** Each day's results on a page ending at {@code end}, by the day's start. */
  private static <R> Map<Long, List<R>> onPage(List<DayResults<R>> days, PageEnd end) {
    Map<Long, List<R>> byStart = new HashMap<>();
    for (DayResults<R> day : days) {
      byStart.put(day.start(), day.results().subList(day.from(), end.of(day.keys(), day.from())));
    }
    return byStart;
  }

  /**
   * Where a page of keys ends: its last key (null: the page has none) and whether keys follow it.
   */
  record PageEnd(String last, boolean more) {

    /** How many of {@code keys} (in key order) are before the page's end: the index after its last key among them. */
    int of(List<String> keys, int from) {
      return last == null ? from : Math.max(from, firstAfter(keys, last));
    }

    /** The cursor of the page after this one; null if this is the last. */
    String next(ReportRequest request) {
      return request.nextPage(last, more);
    }
  }

  /**
   * The last key a day read now must offer for a page after {@code after} (null: the first page)
   * beside sealed days with {@code sealedKeys}: their {@code limit}-th key after it, if they have a
   * key after that one too. The page ends there or before whatever the other days hold, and the
   * sealed days alone tell that more follow; null (no bound) when they have fewer keys.
   */
  static String openDaysBound(List<String> sealedKeys, String after, int limit) {
    long last = (after == null ? 0 : firstAfter(sealedKeys, after)) + (long) limit - 1;
    return last + 1 < sealedKeys.size() ? sealedKeys.get((int) last) : null;
  }

  /** The index of the first of {@code keys} (in {@link #KEY_ORDER}) after {@code key}. */
  static int firstAfter(List<String> keys, String key) {
    int found = Collections.binarySearch(keys, key, KEY_ORDER);
    return found >= 0 ? found + 1 : -found - 1;
  }

  /**
   * The end of a page of the first {@code limit} keys of all {@code lists} together, each list in
   * key order and taken from its index in {@code from}, found by walking every list at once; each
   * list needs to offer only its first {@code limit + 1} keys from there for that (and to tell
   * whether more follow). The walk costs a comparison per list per key taken, so callers merge
   * what they can beforehand (the sealed days of a page into one list of their keys).
   */
  static PageEnd pageEnd(int limit, List<List<String>> lists, int[] from) {
    int[] next = from.clone();
    long[] heads = new long[lists.size()]; // each list's next key's orderPrefix
    for (int d = 0; d < next.length; d++) {
      heads[d] = head(lists.get(d), next[d]);
    }
    String last = null;
    for (int taken = 0; ; taken++) {
      String smallest = null;
      long smallestHead = 0;
      for (int d = 0; d < next.length; d++) {
        List<String> keys = lists.get(d);
        if (next[d] < keys.size()) {
          String key = keys.get(next[d]);
          if (smallest == null || compare(key, heads[d], smallest, smallestHead) < 0) {
            smallest = key;
            smallestHead = heads[d];
          }
        }
      }
      if (smallest == null || taken == limit) {
        return new PageEnd(last, smallest != null);
      }
      last = smallest;
      for (int d = 0; d < next.length; d++) {
        List<String> keys = lists.get(d);
        if (next[d] < keys.size() && heads[d] == smallestHead && keys.get(next[d]).equals(smallest)) {
          next[d]++;
          heads[d] = head(keys, next[d]);
        }
      }
    }
  }

  /** Every key of {@code lists} (each in key order) once, in key order. */
  static List<String> union(List<List<String>> lists) {
    List<String> all = new ArrayList<>();
    lists.forEach(all::addAll);
    all.sort(KEY_ORDER);
    List<String> distinct = new ArrayList<>(all.size());
    for (String key : all) {
      if (distinct.isEmpty() || !distinct.get(distinct.size() - 1).equals(key)) {
        distinct.add(key);
      }
    }
    return List.copyOf(distinct);
  }

  private static long head(List<String> keys, int index) {
    return index < keys.size() ? orderPrefix(keys.get(index)) : 0;
  }

  /**
   * The first seven characters of {@code key} as bytes (zeros past its end), whose numeric order is
   * {@link #KEY_ORDER} on those characters, or -1 when one of them is above U+00FF. A page's walk
   * compares each day's next key with the smallest so far about 31 times per key taken: comparing
   * two such longs settles most of those without reading the ids (a quarter of the query threads'
   * time in a profile of the bench's org pages went to comparing ids).
   */
  static long orderPrefix(String key) {
    long prefix = 0;
    for (int i = 0; i < 7; i++) {
      int c = i < key.length() ? key.charAt(i) : 0;
      if (c > 0xff) {
        return -1;
      }
      prefix = prefix << 8 | c;
    }
    return prefix;
  }

  /** {@link #KEY_ORDER} of {@code a} and {@code b}, given their {@link #orderPrefix}es. */
  static int compare(String a, long prefixA, String b, long prefixB) {
    // equal prefixes (a NUL and the end of a key read alike) or an unknown one: the ids decide
    return prefixA != prefixB && prefixA >= 0 && prefixB >= 0
        ? Long.compare(prefixA, prefixB) : KEY_ORDER.compare(a, b);
  }

  /** The usage per key and bucket start of a whole report grouped by key, of the keys after {@code afterKey} (null: all). */
  static SortedMap<String, Map<Long, UsageView>> byKeyAfter(UsageReport report, String afterKey) {
    SortedMap<String, Map<Long, UsageView>> byKey = new TreeMap<>(KEY_ORDER);
    for (ReportBucket bucket : report.data()) {
      for (ReportResult result : bucket.results()) {
        if (afterKey == null || KEY_ORDER.compare(result.apiKeyId(), afterKey) > 0) {
          byKey.computeIfAbsent(result.apiKeyId(), k -> new TreeMap<>())
              .merge(bucket.startingAt().toEpochMilli(), result.usage(), UsageView::plus);
        }
      }
    }
    return byKey;
  }

  /** Key order of reports grouped by key: code point order, which is the UTF-8 byte order the stores keep. */
  static final Comparator<String> KEY_ORDER = (a, b) -> {
    // a page's walk compares mostly a key with itself (its entries of other days): equals is
    // vectorised, and the loop below ran over whole ids for it (a sixth of a page's query time)
    if (a.equals(b)) {
      return 0;
    }
    int n = Math.min(a.length(), b.length());
    for (int i = 0; i < n; i++) {
      char ca = a.charAt(i);
      char cb = b.charAt(i);
      if (ca != cb) {
        // UTF-16 order is code point order except where a surrogate meets a character above it
        return Character.isSurrogate(ca) || Character.isSurrogate(cb)
            ? Integer.compare(a.codePointAt(Character.isLowSurrogate(ca) ? i - 1 : i),
                b.codePointAt(Character.isLowSurrogate(cb) ? i - 1 : i))
            : ca - cb;
      }
    }
    return a.length() - b.length();
  };

  private static UsageReport layOut(ReportRequest request, Map<Long, List<ReportResult>> byStart,
      Freshness freshness, boolean sorted) {
    String next = request.nextPage();
    return new UsageReport(buckets(request, byStart, sorted), next != null, next, freshness.asOf(), freshness.stale());
  }

  private static List<ReportBucket> buckets(ReportRequest request, Map<Long, List<ReportResult>> byStart,
      boolean sorted) {
    return buckets(request, byStart, List.of(), (start, end, results) -> {
      List<ReportResult> copy = new ArrayList<>(results);
      if (sorted) {
        copy.sort(BY_GROUP);
      }
      return new ReportBucket(start, end, copy);
    });
  }

  /** A bucket of the page from its bounds and results. */
  @FunctionalInterface
  interface BucketOf<T, B> {
    B bucket(Instant start, Instant end, T results);
  }

  /** Every bucket of the page, empty ones too (with {@code none} for results), in time order. */
  static <T, B> List<B> buckets(ReportRequest request, Map<Long, T> byStart, T none, BucketOf<T, B> bucketOf) {
    List<B> data = new ArrayList<>();
    long width = request.width().millis();
    for (long start = request.pageStart().toEpochMilli(); start < request.pageEnd().toEpochMilli(); start += width) {
      data.add(bucketOf.bucket(Instant.ofEpochMilli(start), Instant.ofEpochMilli(start + width),
          byStart.getOrDefault(start, none)));
    }
    return data;
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
