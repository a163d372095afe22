package dev.metering.cli;

import dev.metering.api.admin.AuditLogEntry;
import dev.metering.client.AdminApiException;
import dev.metering.client.AdminClient;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "audit", mixinStandardHelpOptions = true,
    description = "The organisation's audit log: every change, breach, suspension and alert delivery.")
final class AuditCommand extends CommandGroup {

  private static final List<String> COLUMNS = List.of("timestamp", "event_type", "actor", "api_key_id", "description");

  static final class Filters {
    @Option(names = "--event-types", split = ",", paramLabel = "TYPE",
        description = "only these types, such as key_created,key_revoked,limit_breached")
    List<String> eventTypes = List.of();

    String[] types() {
      return eventTypes.toArray(String[]::new);
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Records, newest first.")
  void list(@Mixin UsageCommand.Range range, @Mixin Filters filters,
      @Option(names = "--limit", defaultValue = "100", paramLabel = "N", description = "at most this many (default: ${DEFAULT-VALUE})")
      int limit,
      @Mixin Output.Options output) {
    List<AuditLogEntry> entries = new ArrayList<>();
    for (AuditLogEntry entry : root.admin().auditLogs().list(range.first(), range.last(), filters.types())) {
      if (entries.size() == limit) {
        break;
      }
      entries.add(entry);
    }
    out(output).many(entries, COLUMNS);
  }

  @Command(name = "tail", mixinStandardHelpOptions = true,
      description = "Follow the log: prints records as they are written, oldest first, until stopped (Ctrl-C).")
  void tail(@Mixin Filters filters,
      @Option(names = "--lines", defaultValue = "10", paramLabel = "N",
          description = "print the last this many records first (default: ${DEFAULT-VALUE})") int lines,
      @Option(names = "--interval", defaultValue = "2s", paramLabel = "DURATION", description = "how often to look (default: ${DEFAULT-VALUE})")
      String interval,
      @Option(names = "--max-records", paramLabel = "N", description = "stop after printing this many") Integer maxRecords,
      @Mixin Output.Options output) throws InterruptedException {
    Duration every = Durations.parse("--interval", interval, spec);
    AdminClient admin = root.admin();
    Output out = out(output);
    Map<String, Instant> seen = new HashMap<>();
    int printed = 0;
    boolean first = true;
    while (maxRecords == null || printed < maxRecords) {
      List<AuditLogEntry> fresh;
      try {
        fresh = unseen(admin, filters, seen, first ? lines : Integer.MAX_VALUE);
      } catch (AdminApiException.Unavailable busy) {
        fresh = List.of();
      }
      for (AuditLogEntry entry : fresh) {
        if (maxRecords != null && printed == maxRecords) {
          break;
        }
        out.line(entry, COLUMNS, printed == 0);
        printed++;
      }
      first = false;
      if (maxRecords == null || printed < maxRecords) {
        Thread.sleep(every.toMillis());
      }
    }
  }

  /**
   * Today's and yesterday's records not printed yet, oldest first (yesterday too, so a record
   * written just before midnight UTC is not missed); at most {@code newest} of them, the newest.
   * Every record of the range is looked at, not only those above the newest seen: a transaction
   * may commit a record after a later one. {@code seen} keeps the ids of the range only.
   */
  private static List<AuditLogEntry> unseen(AdminClient admin, Filters filters, Map<String, Instant> seen, int newest) {
    LocalDate today = MeteringCli.today();
    List<AuditLogEntry> fresh = new ArrayList<>();
    for (AuditLogEntry entry : admin.auditLogs().list(today.minusDays(1), today, filters.types())) {
      if (seen.putIfAbsent(entry.id(), entry.timestamp()) == null) {
        fresh.add(entry);
      }
    }
    Instant rangeStart = today.minusDays(1).atStartOfDay().toInstant(ZoneOffset.UTC);
    seen.values().removeIf(timestamp -> timestamp.isBefore(rangeStart));
    List<AuditLogEntry> shown = new ArrayList<>(fresh.subList(0, Math.min(newest, fresh.size())));
    Collections.reverse(shown);
    return shown;
  }
}
