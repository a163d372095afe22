package dev.metering.gateway;

import dev.metering.bench.MicroBenchmarks;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What a usage spool adds to each call a gateway reports: writing its event to the segment file
 * before it is queued, and settling it once acknowledged (segments roll and are deleted as they
 * fill). In this package because the spool is the reporter's own, not public API.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class SpoolBenchmarks {

  private final UsageEvent event = MicroBenchmarks.sampleEvent();
  private final byte[] value = Topics.USAGE_EVENTS.encode(event);
  private Path dir;
  private UsageSpool spool;

  @Setup(Level.Trial)
  public void open() throws IOException {
    dir = Files.createTempDirectory("spool-bench");
    spool = UsageSpool.open(dir);
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    spool.close();
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
  }

  @Benchmark
  public UsageSpool.Entry spoolAppendAndSettle() throws IOException {
    UsageSpool.Entry entry = spool.append(event.getEventId(), event.getApiKeyId(), value);
    spool.settle(entry);
    return entry;
  }
}
