package dev.metering.stream;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices that the previous run of this instance did not stop cleanly and, under exactly-once,
 * wipes its local state before Kafka Streams opens it, so every store is restored from its
 * changelog.
 *
 * <p>Exactly-once discards the state of every task that was not closed cleanly anyway. Kafka
 * Streams 4.3.1 does so store by store while opening them, and a window store whose segments were
 * left open by the crash then fails to initialise again ("lock hold by current process", or "Store
 * ... is currently closed": KAFKA-20808, fixed after 4.3.1), which stopped the instance for good
 * after a crash during a backfill. Wiping the whole state directory first leads to the same
 * restore without that path. The marker is a file beside the state directory, created at start
 * and deleted after a clean close.
 */
final class CrashMarker {

  private static final Logger log = LoggerFactory.getLogger(CrashMarker.class);

  private final Path file;

  private CrashMarker(Path file) {
    this.file = file;
  }

  /** Checks for a marker left by a crash, wipes the state if so, and sets the marker for this run. */
  static CrashMarker open(MeteringConfig config, KafkaStreams streams) {
    Path file = config.stateDir().resolve(config.applicationId() + ".running");
    try {
      Files.createDirectories(config.stateDir());
      if (Files.exists(file) && config.processingGuarantee().startsWith("exactly_once")) {
        log.warn("the previous run of {} did not stop cleanly: wiping its local state in {} to restore every store"
            + " from its changelog (exactly-once would discard it anyway)", config.applicationId(), config.stateDir());
        streams.cleanUp();
      }
      Files.writeString(file, Long.toString(ProcessHandle.current().pid()));
      return new CrashMarker(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the run marker " + file, e);
    }
  }

  void closedCleanly() {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.warn("cannot delete the run marker {}: the next start will restore its state from the changelogs", file, e);
    }
  }
}
