package dev.metering.api.query;

import dev.metering.api.openapi.OpenApi.Parameter;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/** The query parameters of the usage questions, the same in the admin API and the query API. */
public final class UsageParameters {

  private UsageParameters() {
  }

  /** A date range, both days included. */
  public static final List<Parameter> DATES = List.of(
      Parameter.required("start_date", LocalDate.class, "the first day (UTC), included"),
      Parameter.required("end_date", LocalDate.class, "the last day (UTC), included; at most 400 days after"));

  /** Answer from a standby's or a restoring copy rather than 503 (the answer says stale). */
  public static final Parameter ALLOW_STALE =
      Parameter.optional("allow_stale", Boolean.class, "answer from a standby or restoring copy rather than 503");

  /** A report's range, bucket width, grouping (one of {@code groupings}) and page. */
  public static List<Parameter> report(String... groupings) {
    List<Parameter> parameters = new ArrayList<>(List.of(
        Parameter.required("starting_at", Instant.class, "the start, rounded down to a bucket"),
        Parameter.optional("ending_at", Instant.class, "the end, rounded up to a bucket; default now"),
        Parameter.optional("bucket_width", String.class, "bucket width; default 1d", "1h", "1d")));
    if (groupings.length > 0) {
      parameters.add(Parameter.optional("group_by", String.class, "split each bucket by it", groupings));
    }
    parameters.add(Parameter.optional("limit", Integer.class, groupings.length == 0
        ? "buckets per page: at most (and by default) 168 of 1h, 31 of 1d"
        : "buckets per page: at most (and by default) 168 of 1h, 31 of 1d; grouped by api_key_id, API keys per page"
            + " (default 1000, at most 10000) over up to 168 1h or 31 1d buckets, in key order"));
    parameters.add(Parameter.optional("page", String.class, "the next_page of the previous page"));
    return List.copyOf(parameters);
  }
}
