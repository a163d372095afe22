package dev.metering.stream.limits;

import dev.metering.records.LimitEvent;
import dev.metering.records.LimitEventKind;
import java.time.Duration;
import org.apache.kafka.streams.processor.api.ProcessingContext;

/**
 * Asks Kafka Streams to commit a task as soon as the records in hand are processed, rather than
 * at the next commit interval, when the task has just produced a limit event that may change what
 * gateways allow: a breach (a hard limit suspends; a soft one reinstates a key whose limit was
 * switched from hard) or a clearing (reinstates). Under exactly_once_v2 nothing a task produces is
 * readable before its transaction commits, so without this a suspension waits up to
 * {@code METERING_COMMIT_INTERVAL} on top of everything else. Threshold crossings only notify,
 * and wait for the interval.
 *
 * <p>Only for live records: when what caused the event is older than {@link #LIVE} by the wall
 * clock (a backfill, a catch-up after downtime, a replayed configuration) commits come at the
 * interval as usual, so a replay that breaches thousands of keys does not commit once per key.
 * When a task commits never changes what it produces, only when that becomes readable.
 */
public final class PromptCommit {

  /** How old (event time against the wall clock) a cause may be for its breach to commit at once. */
  static final Duration LIVE = Duration.ofMinutes(1);

  private PromptCommit() {
  }

  /** Whether {@code event}, caused by a record of time {@code causeTime}, is worth a commit at {@code wallClock}. */
  static boolean wanted(LimitEvent event, long causeTime, long wallClock) {
    return event.getKind() != LimitEventKind.THRESHOLD_CROSSED && causeTime >= wallClock - LIVE.toMillis();
  }

  /** Requests a commit of the task of {@code context} if {@code event} is worth one (see the class). */
  public static void requestIfWanted(ProcessingContext context, LimitEvent event, long causeTime) {
    if (wanted(event, causeTime, context.currentSystemTimeMs())) {
      context.commit();
    }
  }
}
