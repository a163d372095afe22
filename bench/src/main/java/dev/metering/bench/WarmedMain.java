package dev.metering.bench;

import dev.metering.config.Env;
import dev.metering.stream.MeteringApp;
import dev.metering.stream.MeteringConfig;
import dev.metering.stream.pricing.PriceBook;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * (b) or the pipeline measured with a warm JIT: in one JVM, a first instance (its own application
 * id and state) processes the whole input and stops; once the JIT compiler has gone quiet (under
 * 5% of a core over 10 s), the measured instance, configured from
 * the environment exactly as {@link BaselineMain} or {@code MeteringStreamMain} would be, starts
 * from the beginning with the code already compiled. A deployed instance runs for days, so its
 * throughput is that of compiled code; in a short cold run the pipeline, far more code than (b),
 * spends much of its time waiting for the C2 compiler (which used more CPU than the stream
 * thread in a JFR recording of the cold pipeline's steady window).
 *
 * <p>Arguments: {@code pipeline} or {@code baseline}, and the number of usage-events records the
 * first instance must commit before it stops.
 */
public final class WarmedMain {

  /**
   * Prefix of the first instance's application id and state directory: a prefix, not a suffix, so
   * that its internal topics do not look like the measured instance's ({@link Measure} finds those
   * by the application id and a dash).
   */
  static final String WARM_UP = "warmup-";

  private WarmedMain() {
  }

  public static void main(String[] args) throws Exception {
    boolean pipeline = switch (args[0]) {
      case "pipeline" -> true;
      case "baseline" -> false;
      default -> throw new IllegalArgumentException("pipeline or baseline, not " + args[0]);
    };
    long records = Long.parseLong(args[1]);
    Map<String, String> vars = new HashMap<>(System.getenv());
    MeteringConfig measured = MeteringConfig.from(new Env(vars));
    vars.put("METERING_APPLICATION_ID", WARM_UP + measured.applicationId());
    vars.put("METERING_STATE_DIR", measured.stateDir().resolveSibling(WARM_UP + measured.stateDir().getFileName())
        .toString());
    MeteringConfig warmUp = MeteringConfig.from(new Env(vars));

    try (AutoCloseable first = start(pipeline, warmUp)) {
      Measure.awaitCommitted(warmUp.kafka().bootstrapServers(), warmUp.applicationId(), records, System.nanoTime(),
          Duration.ofMinutes(30), () -> { });
    }
    // C2 keeps compiling for minutes after one pass over the input on two cores: let it finish
    long pid = ProcessHandle.current().pid();
    long waited = Measure.awaitCompilerQuiet(() -> StreamProcess.compilerCpuMillis(pid), Duration.ofSeconds(10), 0.05,
        Duration.ofMinutes(10));
    System.out.printf("warm-up instance done, compiler quiet after %d ms more; starting the measured one%n", waited);
    BaselineMain.runUntilStopped(start(pipeline, measured));
  }

  private static AutoCloseable start(boolean pipeline, MeteringConfig config) {
    if (pipeline) {
      config.kafka().ensureTopics();
      return MeteringApp.start(config, config.pricingFile().map(PriceBook::load).orElseGet(PriceBook::bundled));
    }
    return BaselineMain.start(config);
  }
}
