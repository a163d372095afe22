package dev.metering.cli;

import dev.metering.schemas.DeadLetterHeaders;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "dlq", mixinStandardHelpOptions = true,
    description = "The dead-letter topic (usage-events-dlq): what metering refused and why, and re-sending it after a"
        + " fix. Reads and writes Kafka directly (KAFKA_BOOTSTRAP_SERVERS).")
final class DlqCommand extends CommandGroup {

  private static final List<String> SHOW_COLUMNS = List.of("partition", "offset", "timestamp", "reason", "event.event_id",
      "event.api_key_id", "message");

  private static final List<String> REPLAY_COLUMNS = List.of("dlq_partition", "dlq_offset", "event_id", "reason",
      "status", "partition", "offset");

  /** Which records a command acts on. */
  static final class Selection {
    @Option(names = "--reason", split = ",", paramLabel = "REASON",
        description = "only these reasons, such as FUTURE_EVENT,LATE_EVENT,UNDECODABLE")
    Set<String> reasons;

    @Option(names = "--offsets", split = ",", paramLabel = "PARTITION:OFFSET",
        description = "only these records of usage-events-dlq, such as 0:17,2:4")
    Set<String> offsets;

    boolean any() {
      return reasons != null || offsets != null;
    }

    Predicate<ConsumerRecord<byte[], byte[]>> predicate() {
      return record -> (reasons == null || reasons.contains(DeadLetters.header(record, DeadLetterHeaders.REASON)))
          && (offsets == null || offsets.contains(record.partition() + ":" + record.offset()));
    }
  }

  @Command(name = "stats", mixinStandardHelpOptions = true,
      description = "How many records were dead-lettered, by reason and by day (or hour).")
  void stats(@Option(names = "--by", defaultValue = "day", paramLabel = "day|hour",
      description = "time bucket (default: ${DEFAULT-VALUE})") String by,
      @Mixin Output.Options output) {
    ChronoUnit unit = switch (by) {
      case "day" -> ChronoUnit.DAYS;
      case "hour" -> ChronoUnit.HOURS;
      default -> throw new CommandLine.ParameterException(spec.commandLine(), "--by must be day or hour, not " + by);
    };
    Map<String, Map<String, Long>> counts = new TreeMap<>();
    try (DeadLetters dlq = new DeadLetters(root.kafkaBootstrapServers())) {
      dlq.forEach(record -> {
        var time = java.time.Instant.ofEpochMilli(record.timestamp()).atOffset(ZoneOffset.UTC);
        String period = unit == ChronoUnit.DAYS ? time.toLocalDate().toString() : time.truncatedTo(unit).toInstant().toString();
        String reason = java.util.Objects.requireNonNullElse(DeadLetters.header(record, DeadLetterHeaders.REASON),
            "(none)");
        counts.computeIfAbsent(period, p -> new TreeMap<>()).merge(reason, 1L, Long::sum);
      });
    }
    List<Map<String, Object>> rows = new ArrayList<>();
    counts.forEach((period, byReason) -> byReason.forEach((reason, count) -> {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put(unit == ChronoUnit.DAYS ? "day" : "hour", period);
      row.put("reason", reason);
      row.put("count", count);
      rows.add(row);
    }));
    out(output).many(rows, List.of(unit == ChronoUnit.DAYS ? "day" : "hour", "reason", "count"));
  }

  @Command(name = "show", mixinStandardHelpOptions = true,
      description = "Dead-lettered records, decoded where they are usage events, with their reason headers.")
  void show(@Mixin Selection selection,
      @Option(names = "--limit", defaultValue = "20", paramLabel = "N", description = "the newest this many (default: ${DEFAULT-VALUE})")
      int limit,
      @Mixin Output.Options output) {
    Deque<DeadLetters.DeadLetter> newest = new ArrayDeque<>();
    Predicate<ConsumerRecord<byte[], byte[]>> chosen = selection.predicate();
    try (DeadLetters dlq = new DeadLetters(root.kafkaBootstrapServers())) {
      dlq.forEach(record -> {
        if (chosen.test(record)) {
          newest.addLast(DeadLetters.view(record));
          if (newest.size() > limit) {
            newest.removeFirst();
          }
        }
      });
    }
    out(output).many(newest, SHOW_COLUMNS);
  }

  @Command(name = "replay", mixinStandardHelpOptions = true,
      description = {"Re-send chosen records to usage-events after the cause is fixed (a key registered, a clock set"
          + " right, a limit raised), with their original event ids: an event is still counted once, however often"
          + " it is replayed.", "Choose records with --reason and/or --offsets, or all of them with --all."})
  void replay(@Mixin Selection selection,
      @Option(names = "--all", description = "every record on the topic") boolean all,
      @Option(names = "--rekey", description = "send each record keyed by its event's api_key_id, the key usage is"
          + " partitioned by (KEY_MISMATCH: a gateway that keyed its records wrongly); a record that is not a usage"
          + " event is then not sent") boolean rekey,
      @Option(names = "--own-event-id", description = "send each usage event under an event_id of its own,"
          + " dlq-<partition>-<offset>-<its event_id> (cut to 256 characters), the same on every replay of the record"
          + " (CONFLICTING_DUPLICATE: another call a gateway sent under an id already counted, which a plain replay"
          + " would only dead-letter again); a record of another reason is then not sent, since its event may be"
          + " counted under its own id already") boolean ownEventId,
      @Option(names = "--dry-run", description = "list what would be re-sent, send nothing") boolean dryRun,
      @Mixin Output.Options output) throws Exception {
    if (!all && !selection.any()) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "choose what to replay: --reason, --offsets, or --all for every record");
    }
    Predicate<ConsumerRecord<byte[], byte[]>> chosen = selection.predicate();
    try (DeadLetters dlq = new DeadLetters(root.kafkaBootstrapServers());
        DeadLetters.Replay replay = dlq.replay(rekey, ownEventId, dryRun)) {
      dlq.forEach(record -> {
        if (chosen.test(record)) {
          replay.add(record);
        }
      });
      List<DeadLetters.Replayed> results = replay.finish();
      out(output).many(results, REPLAY_COLUMNS);
      if (replay.refused() > 0) {
        throw new IllegalStateException(replay.refused() + " of " + results.size()
            + " records were not replayed: Kafka refused them (their rows say why); the others were");
      }
    }
  }
}
