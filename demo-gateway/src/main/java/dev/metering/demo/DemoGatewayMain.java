package dev.metering.demo;

import dev.metering.config.Env;
import dev.metering.config.KafkaSettings;
import dev.metering.gateway.KeyGuard;
import dev.metering.gateway.UsageReporter;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/** Runs the reference gateway against {@code KAFKA_BOOTSTRAP_SERVERS} on {@code GATEWAY_HTTP_PORT} until SIGTERM. */
public final class DemoGatewayMain {

  private DemoGatewayMain() {
  }

  public static void main(String[] args) throws InterruptedException {
    Env env = Env.system();
    KafkaSettings kafka = KafkaSettings.from(env);
    int port = env.intInRange("GATEWAY_HTTP_PORT", 8090, 0, 65_535);
    KeyGuard guard = KeyGuard.start(kafka.bootstrapServers(), Clock.systemUTC());
    UsageReporter reporter = DemoGateway.reporter(env, kafka.bootstrapServers(), "demo-gateway");
    DemoGateway gateway = DemoGateway.start(guard, reporter, env.string("GATEWAY_HTTP_BIND", "0.0.0.0"), port);
    guard.awaitReady(Duration.ofSeconds(60));
    System.out.println("demo gateway on port " + gateway.port());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      gateway.close();
      reporter.close();
      guard.close();
      stopped.countDown();
    }));
    stopped.await();
  }
}
