package dev.metering.stream.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.api.query.Freshness;
import dev.metering.api.query.ReportBucket;
import dev.metering.api.query.ReportResult;
import dev.metering.api.query.UsageReport;
import dev.metering.api.query.UsageView;
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
