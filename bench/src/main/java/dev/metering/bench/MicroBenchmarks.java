package dev.metering.bench;

import dev.metering.keys.Secrets;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.AvroSerde;
import dev.metering.schemas.RecordSerdes;
import dev.metering.stream.pricing.PriceBook;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/** JMH micro-benchmarks of the per-event hot functions: serde, pricing, and the secret hash of KeyGuard. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MicroBenchmarks {

  private final UsageEvent event = sampleEvent();
  private final AvroSerde<UsageEvent> serde = RecordSerdes.usageEvent();
  private final byte[] bytes = serde.serialize("usage-events", event);
  private final PriceBook prices = PriceBook.bundled();
  private final String secret = Secrets.generate();

  /** A usage event of the usual size, for the benchmarks of the per-event work. */
  public static UsageEvent sampleEvent() {
    return UsageEvent.newBuilder()
        .setEventId(UUID.randomUUID().toString()).setOrgId("org-bench").setApiKeyId("bk-42")
        .setModel("claude-sonnet-4-5-20250929").setInputTokens(1234).setOutputTokens(321)
        .setCacheCreationInputTokens(0).setCacheReadInputTokens(800).setTimestamp(1_764_000_000_000L)
        .setGatewayId("bench").build();
  }

  @Benchmark
  public byte[] serializeUsageEvent() {
    return serde.serialize("usage-events", event);
  }

  @Benchmark
  public UsageEvent deserializeUsageEvent() {
    return serde.deserialize("usage-events", bytes);
  }

  @Benchmark
  public long priceOneEvent() {
    return prices.quote(event.getModel(), event.getTimestamp()).prices().costMicros(event.getInputTokens(),
        event.getOutputTokens(), event.getCacheCreationInputTokens(), event.getCacheReadInputTokens());
  }

  @Benchmark
  public String hashSecret() {
    return Secrets.hash(secret);
  }
}
