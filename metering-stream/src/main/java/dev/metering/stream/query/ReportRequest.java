package dev.metering.stream.query;

import java.nio.charset.StandardCharsets;
import dev.metering.schemas.QueryTimes;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * A validated usage-report request: buckets of {@code width} whose start lies in
 * [starting_at floored to the width, ending_at), one page of them at a time.
 *
 * <p>Grouped by API key, a page is at most {@code limit} keys (in key order, after {@code afterKey})
 * over the longest page of buckets the width allows; the next page goes on after its last key, and
 * after the last key with the next page of buckets. The cursor is a key, not a position, so keys
 * that appear meanwhile never shift a page.
 *
 * @param limit buckets per page, or API keys per page when grouped by key
 * @param pageStart start of this page's first bucket
 * @param pageEnd end (exclusive) of this page's last bucket
 * @param afterKey grouped by key: the page holds keys after this one; null for the first page of buckets
 */
public record ReportRequest(Instant start, Instant end, BucketWidth width, String groupBy, int limit,
    Instant pageStart, Instant pageEnd, boolean allowStale, String afterKey) {

  public static final String BY_KEY = "api_key_id";
  public static final int DEFAULT_KEYS_PER_PAGE = 1_000;
  public static final int MAX_KEYS_PER_PAGE = 10_000;

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._:@-]{1,128}");
  private static final Base64.Encoder PAGE_ENCODER = Base64.getUrlEncoder().withoutPadding();

  /** Reads the query parameters through {@code param}; {@code groupings} are the group_by values allowed. */
  public static ReportRequest parse(Function<String, String> param, Set<String> groupings, Instant now) {
    BucketWidth width = BucketWidth.parse(param.apply("bucket_width"));
    Instant start = floor(instant("starting_at", param.apply("starting_at"), null), width);
    Instant end = ceil(instant("ending_at", param.apply("ending_at"), now), width);
    if (!end.isAfter(start)) {
      throw new BadRequestException("ending_at", "ending_at must be after starting_at");
    }
    if (end.toEpochMilli() - start.toEpochMilli() > width.maxRange().toMillis()) {
      throw new BadRequestException("ending_at", "a report of " + width.wire() + " buckets spans at most "
          + width.maxRange().toDays() + " days");
    }
    String groupBy = param.apply("group_by");
    if (groupBy != null && !groupBy.isBlank() && !groupings.contains(groupBy)) {
      throw new BadRequestException("group_by", "group_by must be one of " + groupings + ", got '" + groupBy + "'");
    }
    boolean byKey = BY_KEY.equals(groupBy);
    int limit = byKey ? integer("limit", param.apply("limit"), DEFAULT_KEYS_PER_PAGE, 1, MAX_KEYS_PER_PAGE)
        : integer("limit", param.apply("limit"), width.maxPageBuckets(), 1, width.maxPageBuckets());
    int buckets = byKey ? width.maxPageBuckets() : limit;
    String[] page = page(param.apply("page"), start, end, byKey);
    Instant pageStart = Instant.ofEpochMilli(Long.parseLong(page[0]));
    Instant pageEnd = Instant.ofEpochMilli(Math.min(end.toEpochMilli(), pageStart.toEpochMilli() + buckets * width.millis()));
    return new ReportRequest(start, end, width, groupBy == null || groupBy.isBlank() ? null : groupBy, limit,
        pageStart, pageEnd, bool("allow_stale", param.apply("allow_stale")), page[1]);
  }

  public boolean byKey() {
    return BY_KEY.equals(groupBy);
  }

  /** The page token of the page after this one, or null if this is the last. */
  public String nextPage() {
    return pageEnd.isBefore(end) ? pageToken(pageEnd) : null;
  }

  /**
   * Grouped by key: the page token of the page after this one, which goes on after {@code lastKey}
   * if more keys follow it in this page's buckets, else with the next buckets; null if this is the last.
   */
  public String nextPage(String lastKey, boolean moreKeys) {
    if (moreKeys) {
      return PAGE_ENCODER.encodeToString((pageStart.toEpochMilli() + "|" + lastKey).getBytes(StandardCharsets.UTF_8));
    }
    return nextPage();
  }

  /** The page token of the page starting with the bucket at {@code pageStart} (URL-safe). */
  public static String pageToken(Instant pageStart) {
    return PAGE_ENCODER.encodeToString(Long.toString(pageStart.toEpochMilli()).getBytes(StandardCharsets.US_ASCII));
  }

  public static String id(String parameter, String value) {
    if (value == null || !ID.matcher(value).matches()) {
      throw new BadRequestException(parameter, parameter + " must be 1 to 128 letters, digits or ._:@-");
    }
    return value;
  }

  public static Instant instant(String parameter, String value, Instant defaultValue) {
    Instant parsed = QueryTimes.instant(parameter, value, BadRequestException::new);
    if (parsed != null) {
      return parsed;
    }
    if (defaultValue == null) {
      throw new BadRequestException(parameter, parameter + " is required (RFC 3339, e.g. 2026-11-01T00:00:00Z)");
    }
    return defaultValue;
  }

  public static LocalDate date(String parameter, String value) {
    return QueryTimes.date(parameter, value, BadRequestException::new);
  }

  /** A date range with both ends included, at most {@code maxDays} long. */
  public static LocalDate[] dateRange(Function<String, String> param, int maxDays) {
    LocalDate start = date("start_date", param.apply("start_date"));
    LocalDate end = date("end_date", param.apply("end_date"));
    if (end.isBefore(start)) {
      throw new BadRequestException("end_date", "end_date must not be before start_date");
    }
    if (start.plusDays(maxDays).isBefore(end.plusDays(1))) {
      throw new BadRequestException("end_date", "a date range spans at most " + maxDays + " days");
    }
    return new LocalDate[] {start, end};
  }

  public static boolean bool(String parameter, String value) {
    if (value == null || value.isBlank()) {
      return false;
    }
    return switch (value) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new BadRequestException(parameter, parameter + " must be true or false, got '" + value + "'");
    };
  }

  static long startOfDay(LocalDate date) {
    return date.atStartOfDay().toInstant(ZoneOffset.UTC).toEpochMilli();
  }

  private static int integer(String parameter, String value, int defaultValue, int min, int max) {
    if (value == null || value.isBlank()) {
      return defaultValue;
    }
    try {
      int parsed = Integer.parseInt(value);
      if (parsed >= min && parsed <= max) {
        return parsed;
      }
    } catch (NumberFormatException ignored) {
      // answered below
    }
    throw new BadRequestException(parameter, parameter + " must be a whole number from " + min + " to " + max
        + ", got '" + value + "'");
  }

  /** The page's first bucket start (as a number) and, grouped by key, the key it goes on after (or null). */
  private static String[] page(String token, Instant start, Instant end, boolean byKey) {
    if (token == null || token.isBlank()) {
      return new String[] {Long.toString(start.toEpochMilli()), null};
    }
    try {
      String decoded = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
      int bar = decoded.indexOf('|');
      String afterKey = bar < 0 ? null : decoded.substring(bar + 1);
      Instant page = Instant.ofEpochMilli(Long.parseLong(bar < 0 ? decoded : decoded.substring(0, bar)));
      if (!page.isBefore(start) && page.isBefore(end) && (afterKey == null || byKey && !afterKey.isEmpty())) {
        return new String[] {Long.toString(page.toEpochMilli()), afterKey};
      }
    } catch (IllegalArgumentException ignored) {
      // answered below; NumberFormatException is an IllegalArgumentException
    }
    throw new BadRequestException("page", "page is not a next_page token of this report");
  }

  private static Instant floor(Instant t, BucketWidth width) {
    return Instant.ofEpochMilli(Math.floorDiv(t.toEpochMilli(), width.millis()) * width.millis());
  }

  private static Instant ceil(Instant t, BucketWidth width) {
    return Instant.ofEpochMilli(-Math.floorDiv(-t.toEpochMilli(), width.millis()) * width.millis());
  }
}
