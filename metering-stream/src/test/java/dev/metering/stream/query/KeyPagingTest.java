package dev.metering.stream.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.query.Freshness;
import dev.metering.api.query.ReportBucket;
import dev.metering.api.query.ReportResult;
import dev.metering.api.query.UsageReport;
import dev.metering.api.query.UsageView;
import dev.metering.json.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Org reports grouped by key, a page of keys at a time: limits, cursors and the key order. */
class KeyPagingTest {

  private static final Instant NOW = Instant.parse("2026-11-30T12:00:00Z");
  private static final Freshness FRESH = new Freshness(NOW, false);

  private static ReportRequest request(Map<String, String> params) {
    return ReportRequest.parse(params::get, Set.of("api_key_id", "model"), NOW);
  }

  private static Map<String, String> params(String... pairs) {
    Map<String, String> params = new HashMap<>(Map.of("starting_at", "2026-11-01T00:00:00Z",
        "ending_at", "2026-11-30T00:00:00Z", "group_by", "api_key_id"));
    for (int i = 0; i < pairs.length; i += 2) {
      params.put(pairs[i], pairs[i + 1]);
    }
    return params;
  }

  /** What a store gives for {@code ids}: those after the request's cursor, with usage in its first bucket. */
  private static SortedMap<String, Map<Long, UsageView>> keys(ReportRequest request, String... ids) {
    SortedMap<String, Map<Long, UsageView>> candidates = new TreeMap<>(ReportAssembly.KEY_ORDER);
    for (String id : ids) {
      if (request.afterKey() == null || ReportAssembly.KEY_ORDER.compare(id, request.afterKey()) > 0) {
        candidates.put(id, Map.of(request.pageStart().toEpochMilli(), usage(1)));
      }
    }
    return candidates;
  }

  private static UsageView usage(long tokens) {
    return UsageView.of(tokens, 0, 0, 0, 1, tokens, 0);
  }

  private static List<String> keysOf(UsageReport page) {
    List<String> keys = new ArrayList<>();
    page.data().forEach(bucket -> bucket.results().forEach(r -> keys.add(r.apiKeyId())));
    return keys;
  }

  @Test
  void aPageHoldsAtMostLimitKeysOverEveryBucketOfTheRangeAndGoesOnAfterItsLastKey() {
    ReportRequest first = request(params("limit", "2"));
    assertEquals(2, first.limit());
    assertEquals(29, (first.pageEnd().toEpochMilli() - first.pageStart().toEpochMilli()) / 86_400_000L,
        "every day of the range on one page of keys");
    UsageReport page1 = ReportAssembly.keyPage(first, keys(first, "a", "b", "c"), FRESH);
    assertEquals(List.of("a", "b"), keysOf(page1));
    assertEquals(29, page1.data().size(), "empty days are there too");
    assertTrue(page1.hasMore());

    ReportRequest second = request(params("limit", "2", "page", page1.nextPage()));
    assertEquals("b", second.afterKey());
    assertEquals(first.pageStart(), second.pageStart(), "the same buckets");
    UsageReport page2 = ReportAssembly.keyPage(second, keys(second, "a", "b", "c"), FRESH);
    assertEquals(List.of("c"), keysOf(page2));
    assertFalse(page2.hasMore());
    assertNull(page2.nextPage());
  }

  @Test
  void afterTheLastKeyTheNextPageStartsTheNextBucketsFromTheFirstKey() {
    ReportRequest first = request(params("bucket_width", "1h", "limit", "5"));
    assertEquals(168, (first.pageEnd().toEpochMilli() - first.pageStart().toEpochMilli()) / 3_600_000L);
    UsageReport page1 = ReportAssembly.keyPage(first, keys(first, "a"), FRESH);
    assertTrue(page1.hasMore(), "29 days of hours are more than one page of 168");

    ReportRequest second = request(params("bucket_width", "1h", "limit", "5", "page", page1.nextPage()));
    assertNull(second.afterKey());
    assertEquals(first.pageEnd(), second.pageStart());
  }

  @Test
  void keysAreInCodePointOrderTheStoresByteOrder() {
    // U+FF21 sorts before a surrogate pair in UTF-16 order but after it in code point (UTF-8) order
    List<String> ids = new ArrayList<>(List.of("\uD83D\uDE00", "\uFF21", "a", "a|b", "ab"));
    ids.sort(ReportAssembly.KEY_ORDER);
    assertEquals(List.of("a", "ab", "a|b", "\uFF21", "\uD83D\uDE00"), ids);
  }

  @Test
  void aPagesWalkOverManyDaysTakesTheFirstKeysInKeyOrderWhateverTheirCharacters() {
    // the walk compares seven-character prefixes first: ids alike in them, a NUL where another id
    // ends, and characters above U+00FF (a surrogate pair among them) must still come in key order
    String[] alphabet = {"a", "b", "\u0000", "\u00ff", "\u0100", "\uFF21", "\uD83D\uDE00", "key_0000"};
    java.util.Random random = new java.util.Random(7);
    for (int round = 0; round < 200; round++) {
      int limit = 1 + random.nextInt(20);
      ReportRequest request = request(params("limit", Integer.toString(limit)));
      java.util.TreeSet<String> all = new java.util.TreeSet<>(ReportAssembly.KEY_ORDER);
      List<ReportAssembly.DayResults<String>> days = new ArrayList<>();
      for (int d = 0; d < 1 + random.nextInt(31); d++) {
        java.util.TreeSet<String> day = new java.util.TreeSet<>(ReportAssembly.KEY_ORDER);
        for (int k = random.nextInt(30); k > 0; k--) {
          StringBuilder id = new StringBuilder();
          for (int c = 1 + random.nextInt(10); c > 0; c--) {
            id.append(alphabet[random.nextInt(alphabet.length)]);
          }
          day.add(id.toString());
        }
        all.addAll(day);
        List<String> keys = List.copyOf(day);
        days.add(new ReportAssembly.DayResults<>(d, keys, keys, 0));
      }

      ReportAssembly.KeyPage<String> page = ReportAssembly.keysOfPage(request, days);

      List<String> expected = all.stream().limit(limit).toList();
      java.util.TreeSet<String> taken = new java.util.TreeSet<>(ReportAssembly.KEY_ORDER);
      page.byStart().values().forEach(taken::addAll);
      assertEquals(expected, List.copyOf(taken), "round " + round);
      for (ReportAssembly.DayResults<String> day : days) {
        assertEquals(day.keys().stream().filter(k -> expected.contains(k)).toList(), page.byStart().get(day.start()),
            "round " + round + ": each day's results are its keys on the page");
      }
      assertEquals(all.size() > limit, page.next() != null, "round " + round);
      // the days' keys merged into one list first, as a page does with its sealed days: the same end
      List<String> merged = ReportAssembly.union(days.stream().map(ReportAssembly.DayResults::keys).toList());
      assertEquals(List.copyOf(all), merged, "round " + round + ": every key once, in key order");
      ReportAssembly.PageEnd end = ReportAssembly.pageEnd(limit, List.of(merged), new int[] {0});
      assertEquals(expected.isEmpty() ? null : expected.get(expected.size() - 1), end.last(), "round " + round);
      assertEquals(all.size() > limit, end.more(), "round " + round);
    }
  }

  @Test
  void theWholeReportOfTheOldWayIsCutToTheSamePages() {
    ReportRequest first = request(params("limit", "1"));
    long day = first.pageStart().toEpochMilli();
    UsageReport whole = new UsageReport(List.of(
        new ReportBucket(first.pageStart(), first.pageStart().plusSeconds(86_400),
            List.of(new ReportResult("k2", null, usage(2)), new ReportResult("k1", null, usage(1))))),
        false, null, NOW, false);

    SortedMap<String, Map<Long, UsageView>> all = ReportAssembly.byKeyAfter(whole, null);
    assertEquals(List.of("k1", "k2"), new ArrayList<>(all.keySet()));
    assertEquals(usage(2), all.get("k2").get(day));
    assertEquals(List.of("k2"), new ArrayList<>(ReportAssembly.byKeyAfter(whole, "k1").keySet()));
    assertEquals(List.of("k1"), keysOf(ReportAssembly.keyPage(first, all, FRESH)));
  }

  /**
   * Days kept rendered (SealedDays) are whole days of raw JSON with the cursor applied by index;
   * the other days are a page's worth of results read after the cursor, none past the bound the
   * sealed days set. Every page of a cursor walk over a mix of both must be the same JSON as the
   * plain report of the same usage.
   */
  @Test
  void pagesMixingDaysKeptRenderedWithDaysReadNowAreTheSameJsonAsThePlainReport() throws Exception {
    long day0 = request(params()).pageStart().toEpochMilli();
    // day d holds the keys whose number is not a multiple of d + 2, so every day has its own gaps
    Map<Long, SortedMap<String, UsageView>> usage = new TreeMap<>();
    for (int d = 0; d < 4; d++) {
      SortedMap<String, UsageView> keys = new TreeMap<>(ReportAssembly.KEY_ORDER);
      for (int k = 1; k <= 10; k++) {
        if (k % (d + 2) != 0) {
          keys.put("key-" + k, usage(100L * d + k));
        }
      }
      usage.put(day0 + d * 86_400_000L, keys);
    }
    int[] boundCut = {0};
    assertEquals(4, walkMixedPages(usage, Set.of(day0, day0 + 2 * 86_400_000L), 3, boundCut), "10 keys, 3 a page");
    assertTrue(boundCut[0] > 0, "some keys of days read now were left out by the sealed days' bound");
  }

  @Test
  void daysReadNowAreBoundOnlyWhereTheSealedDaysAloneTellThatMoreFollow() throws Exception {
    long day0 = request(params()).pageStart().toEpochMilli();
    long day1 = day0 + 86_400_000L;
    // the sealed day has exactly a page of keys: a day read now bound at its last would hide "d"
    int[] boundCut = {0};
    assertEquals(2, walkMixedPages(Map.of(day0, day("a", "b", "c"), day1, day("a", "d")), Set.of(day0), 3,
        boundCut));
    assertEquals(0, boundCut[0]);
    // one key more, and the sealed day alone tells that a page follows: "d" need not be read
    assertEquals(2, walkMixedPages(Map.of(day0, day("a", "b", "c", "e"), day1, day("a", "d")), Set.of(day0), 3,
        boundCut));
    assertEquals(1, boundCut[0]);
  }

  private static SortedMap<String, UsageView> day(String... keys) {
    SortedMap<String, UsageView> day = new TreeMap<>(ReportAssembly.KEY_ORDER);
    for (String key : keys) {
      day.put(key, usage(key.charAt(0)));
    }
    return day;
  }

  /**
   * Walks the cursor over {@code usage} (days by start, each its keys' usage), the days in
   * {@code kept} kept rendered and the others read now as QueryService reads them, asserting each
   * page the same as the plain report's; counts in {@code boundCut} the keys of days read now left
   * out by the sealed days' bound, and returns the number of pages.
   */
  private static int walkMixedPages(Map<Long, SortedMap<String, UsageView>> usage, Set<Long> kept, int limit,
      int[] boundCut) throws Exception {
    ObjectMapper json = Json.mapper();
    Map<String, String> params = params("starting_at", "2026-11-01T00:00:00Z", "ending_at", "2026-11-05T00:00:00Z",
        "limit", Integer.toString(limit));
    int pages = 0;
    String cursor = null;
    do {
      Map<String, String> pageParams = new HashMap<>(params);
      if (cursor != null) {
        pageParams.put("page", cursor);
      }
      ReportRequest page = request(pageParams);
      SortedMap<String, Map<Long, UsageView>> candidates = new TreeMap<>(ReportAssembly.KEY_ORDER);
      Map<Long, SealedDays.Day> sealed = new TreeMap<>();
      for (var day : new TreeMap<>(usage).entrySet()) {
        if (kept.contains(day.getKey())) {
          List<byte[]> rendered = new ArrayList<>();
          for (var entry : day.getValue().entrySet()) {
            rendered.add(json.writeValueAsBytes(new ReportResult(entry.getKey(), null, entry.getValue())));
          }
          sealed.put(day.getKey(), SealedDays.Day.of(new ArrayList<>(day.getValue().keySet()), rendered));
        }
      }
      List<String> sealedKeys = ReportAssembly.union(sealed.values().stream().map(SealedDays.Day::keys).toList());
      // days read now offer at most limit + 1 keys after the cursor, and none past the bound
      String upTo = ReportAssembly.openDaysBound(sealedKeys, page.afterKey(), page.limit());
      List<ReportAssembly.DayResults<ReportResult>> readNow = new ArrayList<>();
      for (var day : new TreeMap<>(usage).entrySet()) {
        List<String> afterCursor = new ArrayList<>();
        List<ReportResult> read = new ArrayList<>();
        boolean open = !kept.contains(day.getKey());
        day.getValue().forEach((key, view) -> {
          if (page.afterKey() == null || ReportAssembly.KEY_ORDER.compare(key, page.afterKey()) > 0) {
            candidates.computeIfAbsent(key, k -> new TreeMap<>()).put(day.getKey(), view);
            if (open && read.size() <= page.limit()) {
              if (upTo == null || ReportAssembly.KEY_ORDER.compare(key, upTo) <= 0) {
                afterCursor.add(key);
                read.add(new ReportResult(key, null, view));
              } else {
                boundCut[0]++;
              }
            }
          }
        });
        if (open) {
          readNow.add(new ReportAssembly.DayResults<>(day.getKey(), afterCursor, read, 0));
        }
      }
      UsageReport plain = ReportAssembly.keyPage(page, candidates, FRESH);
      RenderedReport rendered = ReportAssembly.orgPage(page, sealed, sealedKeys, readNow, FRESH);
      assertEquals(json.writeValueAsString(plain), json.writeValueAsString(rendered), "page " + (pages + 1));
      assertEquals(plain, json.readValue(json.writeValueAsBytes(rendered), UsageReport.class));
      cursor = plain.nextPage();
      pages++;
    } while (cursor != null);
    return pages;
  }

  @Test
  void aKeyLimitAndACursorAreChecked() {
    assertEquals(1_000, request(params()).limit(), "1,000 keys by default");
    assertThrows(BadRequestException.class, () -> request(params("limit", "10001")));
    String keyCursor = ReportRequest.parse(params()::get, Set.of("api_key_id"), NOW).nextPage("k", true);
    Map<String, String> notByKey = params("page", keyCursor);
    notByKey.remove("group_by");
    assertThrows(BadRequestException.class, () -> request(notByKey), "a key cursor only pages a report by key");
  }
}
