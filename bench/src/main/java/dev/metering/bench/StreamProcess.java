package dev.metering.bench;

import dev.metering.stream.MeteringStreamMain;
import dev.metering.keys.Secrets;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * metering-stream (or the baseline, {@link BaselineMain}, or alert-service) in a JVM of its own,
 * started as it is deployed (its main class with its environment, a {@value #HEAP} heap and the
 * image's JAVA_OPTS), so all are measured the same way and the memory measured is the process's
 * alone: the peak resident set from the kernel and the peak heap in use from its GC log (the heap
 * just before each collection).
 */
final class StreamProcess implements AutoCloseable {

  /** Heap of the measured instance; its RocksDB budget is METERING_ROCKSDB_MEMORY_MB (off heap). */
  static final String HEAP = "2g";

  private static final Pattern HEAP_BEFORE_GC = Pattern.compile(" (\\d+)([KMG])->\\d+[KMG]\\(");

  private final Process process;
  private final int httpPort;
  private final Path gcLog;
  private final String queryToken;

  private StreamProcess(Process process, int httpPort, Path gcLog, String queryToken) {
    this.queryToken = queryToken;
    this.process = process;
    this.httpPort = httpPort;
    this.gcLog = gcLog;
  }

  /** Starts metering-stream with {@code env} (plus this process's own) and a free HTTP port. */
  static StreamProcess start(Map<String, String> env, Path work) throws IOException {
    return start(MeteringStreamMain.class, env, work);
  }

  /** Starts {@code main} with {@code env} (plus this process's own), {@code args} and a free HTTP port. */
  static StreamProcess start(Class<?> main, Map<String, String> env, Path work, String... args) throws IOException {
    int port = freePort();
    Path dir = Files.createTempDirectory(work, main.getSimpleName() + "-");
    Path gcLog = dir.resolve("gc.log");
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx" + HEAP,
        "-Xlog:gc:file=" + gcLog));
    // the image's JVM options (Dockerfile: java $JAVA_OPTS), so a collector is measured as it is deployed
    String javaOpts = System.getenv("JAVA_OPTS");
    if (javaOpts != null && !javaOpts.isBlank()) {
      command.addAll(List.of(javaOpts.trim().split("\\s+")));
    }
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(dir.resolve("process.log").toFile());
    builder.environment().putAll(env);
    builder.environment().put("METERING_HTTP_PORT", Integer.toString(port));
    builder.environment().put("METERING_HTTP_BIND", "127.0.0.1");
    String token = Secrets.generate();
    builder.environment().put("METERING_QUERY_TOKEN", token);
    Process process = builder.start();
    // a bench stopped with Ctrl-C or kill must not leave its stream processes running, still using
    // CPU and skewing the next run on the same machine
    Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly, "stop-" + main.getSimpleName()));
    return new StreamProcess(process, port, gcLog, token);
  }

  /** Throws if the process has exited: its log says why. */
  void requireAlive() {
    if (!process.isAlive()) {
      throw new IllegalStateException(process.info().command().orElse("the process") + " exited with " + process.exitValue() + "; see "
          + gcLog.resolveSibling("process.log"));
    }
  }

  int httpPort() {
    return httpPort;
  }

  /** The Authorization header its query API wants. */
  String queryAuthorization() {
    return "Bearer " + queryToken;
  }

  /** The most memory the process has had resident so far (VmHWM). */
  long peakRssBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the memory of metering-stream (pid " + process.pid() + ")", e);
    }
    throw new IllegalStateException("no VmHWM for pid " + process.pid());
  }

  /**
   * CPU time the process's JIT compiler threads have used so far, from {@code /proc}: while it
   * still rises quickly, the compiler takes a core from the stream thread on a small machine.
   */
  long compilerCpuMillis() {
    return compilerCpuMillis(process.pid());
  }

  /** Its CPU clock for {@link Measure#awaitCommitted}. */
  Measure.CpuClock cpuClock() {
    return new Measure.CpuClock() {
      @Override
      public long processMillis() {
        try {
          // utime and stime of the whole process: the 12th and 13th fields after the command
          String stat = Files.readString(Path.of("/proc", Long.toString(process.pid()), "stat"));
          String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10; // USER_HZ is 100 on Linux
        } catch (IOException e) {
          throw new UncheckedIOException("cannot read the CPU time of pid " + process.pid(), e);
        }
      }

      @Override
      public long compilerMillis() {
        return compilerCpuMillis();
      }
    };
  }

  /** CPU time the JIT compiler threads of process {@code pid} have used so far, from {@code /proc}. */
  static long compilerCpuMillis(long pid) {
    long ticks = 0;
    try (var threads = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      for (Path thread : threads.toList()) {
        try {
          String name = Files.readString(thread.resolve("comm"));
          if (!name.startsWith("C1 Compiler") && !name.startsWith("C2 Compiler")) {
            continue;
          }
          // fields after the command's closing parenthesis: utime and stime are the 12th and 13th
          String stat = Files.readString(thread.resolve("stat"));
          String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          ticks += Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        } catch (IOException gone) {
          // a thread that ended while the list was read: its files are missing, or their read
          // fails with ESRCH ("No such process", a plain IOException), which stopped a warm run
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the threads of process " + pid, e);
    }
    return ticks * 10; // USER_HZ is 100 on Linux
  }

  /** The most heap in use so far: the largest heap any collection started from. */
  long peakHeapBytes() {
    long peak = 0;
    try {
      for (String line : Files.readAllLines(gcLog)) {
        Matcher before = HEAP_BEFORE_GC.matcher(line);
        if (line.contains("Pause") && before.find()) {
          long size = Long.parseLong(before.group(1));
          peak = Math.max(peak, switch (before.group(2)) {
            case "K" -> size << 10;
            case "M" -> size << 20;
            default -> size << 30;
          });
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read metering-stream's GC log " + gcLog, e);
    }
    return peak;
  }

  /** Stops it as a supervisor would (SIGTERM), forcibly if it does not stop within a minute. */
  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(Duration.ofMinutes(1).toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
