package dev.metering.cli;

import dev.metering.api.query.ReportBucket;
import dev.metering.api.query.ReportResult;
import dev.metering.client.AdminClient;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "usage", mixinStandardHelpOptions = true,
    description = "Tokens and estimated cost; dates are UTC days, both included, and default to the current month.")
final class UsageCommand extends CommandGroup {

  private static final List<String> BY_KEY_COLUMNS = List.of("api_key_id", "key_name", "total_tokens",
      "total_input_tokens", "total_output_tokens", "requests", "estimated_cost");

  /** A date range, the current month (UTC) unless given. */
  static final class Range {
    @Option(names = "--start", paramLabel = "YYYY-MM-DD", description = "first day (default: the 1st of this month)")
    LocalDate start;

    @Option(names = "--end", paramLabel = "YYYY-MM-DD", description = "last day (default: today)")
    LocalDate end;

    LocalDate first() {
      return start != null ? start : MeteringCli.today().withDayOfMonth(1);
    }

    LocalDate last() {
      return end != null ? end : MeteringCli.today();
    }
  }

  @Command(name = "summary", mixinStandardHelpOptions = true, description = "The organisation's totals.")
  void summary(@Mixin Range range, @Mixin Output.Options output) {
    out(output).one(root.admin().usage().retrieve(range.first(), range.last()));
  }

  @Command(name = "by-key", mixinStandardHelpOptions = true, description = "Totals per API key.")
  void byKey(@Mixin Range range, @Mixin Output.Options output) {
    out(output).many(root.admin().usage().byKey(range.first(), range.last()), BY_KEY_COLUMNS);
  }

  @Command(name = "current-period", mixinStandardHelpOptions = true,
      description = "The calendar month so far and its end at the daily rate so far: the organisation's, or with a"
          + " KEY_ID one key's, against its token and dollar limits.")
  void currentPeriod(@picocli.CommandLine.Parameters(paramLabel = "KEY_ID", arity = "0..1") String keyId,
      @Mixin Output.Options output) {
    out(output).one(keyId == null ? root.admin().usage().currentPeriod() : root.admin().apiKeys().currentPeriod(keyId));
  }

  @Command(name = "report", mixinStandardHelpOptions = true,
      description = "Usage in hourly or daily buckets, one row per bucket and group; json gives the buckets as the API does.")
  void report(@Mixin Range range,
      @Option(names = "--bucket-width", defaultValue = "1d", paramLabel = "1h|1d",
          description = "bucket width (default: ${DEFAULT-VALUE})") String width,
      @Option(names = "--group-by", paramLabel = "model|api_key_id", description = "split each bucket") String groupBy,
      @Option(names = "--key-id", paramLabel = "KEY_ID", description = "one key's usage only") String keyId,
      @Mixin Output.Options output) {
    if (!width.equals("1h") && !width.equals("1d")) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--bucket-width must be 1h or 1d, not " + width);
    }
    var from = range.first().atStartOfDay().toInstant(ZoneOffset.UTC);
    var to = range.last().plusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    AdminClient.Usage usage = root.admin().usage();
    Iterable<ReportBucket> buckets = keyId == null ? usage.report(from, to, width, groupBy)
        : usage.keyReport(keyId, from, to, width, groupBy);
    if (output.format == Output.Format.json) {
      List<ReportBucket> all = new ArrayList<>();
      buckets.forEach(all::add);
      out(output).many(all, List.of());
      return;
    }
    List<Map<String, Object>> rows = new ArrayList<>();
    for (ReportBucket bucket : buckets) {
      for (ReportResult result : bucket.results()) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("starting_at", bucket.startingAt());
        row.put("ending_at", bucket.endingAt());
        row.put("api_key_id", keyId != null ? keyId : result.apiKeyId());
        row.put("model", result.model());
        row.put("usage", result.usage());
        rows.add(row);
      }
    }
    List<String> columns = new ArrayList<>(List.of("starting_at"));
    if (keyId != null || "api_key_id".equals(groupBy)) {
      columns.add("api_key_id");
    }
    if ("model".equals(groupBy)) {
      columns.add("model");
    }
    columns.addAll(List.of("usage.total_tokens", "usage.requests", "usage.estimated_cost"));
    out(output).many(rows, columns);
  }
}
