package dev.metering.demo;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.config.Env;
import dev.metering.gateway.UsageReporter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoGatewayTest {

  private static final String NO_BROKER = "127.0.0.1:1";

  @TempDir
  Path dir;

  @Test
  void shouldSpoolUsageInTheDirectoryTheEnvironmentNames() {
    Path spool = dir.resolve("spool");
    Env env = new Env(Map.of("GATEWAY_USAGE_SPOOL_DIR", spool.toString()));
    try (UsageReporter reporter = DemoGateway.reporter(env, NO_BROKER, "gw-test")) {
      assertTrue(Files.exists(spool.resolve("spool.lock")));
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> DemoGateway.reporter(env, NO_BROKER, "gw-test"));
      assertTrue(e.getMessage().contains("in use by another reporter"), e.getMessage());
    }
  }

  @Test
  void shouldKeepUsageInMemoryOnlyWithoutASpoolDirectory() {
    Env env = new Env(Map.of());
    try (UsageReporter first = DemoGateway.reporter(env, NO_BROKER, "gw-test")) {
      // no directory is held: a second reporter with the same environment starts too
      assertDoesNotThrow(() -> DemoGateway.reporter(env, NO_BROKER, "gw-test").close());
    }
  }
}
