package dev.metering.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docker-compose.yml cannot be run here (no Docker engine), so its consistency with the code is
 * checked: every built service names a module and a main class that exist, sets only variables
 * the configuration tables document, and depends only on services that exist; its broker is the
 * Kafka version the code is built with.
 */
class ComposeFileTest {

  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void shouldDescribeOnlyModulesMainClassesAndVariablesTheCodeHas() throws IOException {
    JsonNode compose = new ObjectMapper(new YAMLFactory()).readTree(ROOT.resolve("docker-compose.yml").toFile());
    Set<String> documented = documentedVariables();
    JsonNode services = compose.get("services");
    Set<String> built = new HashSet<>();

    for (var it = services.fields(); it.hasNext(); ) {
      var service = it.next();
      String name = service.getKey();
      JsonNode spec = service.getValue();
      assertTrue(spec.has("image") ^ spec.has("build"), name + " has an image or a build");
      if (spec.has("build")) {
        built.add(name);
        String module = spec.at("/build/args/MODULE").asText();
        String main = spec.at("/build/args/MAIN_CLASS").asText();
        assertTrue(Files.isRegularFile(ROOT.resolve(module).resolve("pom.xml")), name + ": module " + module);
        Path source = ROOT.resolve(module).resolve("src/main/java").resolve(main.replace('.', '/') + ".java");
        assertTrue(Files.isRegularFile(source), name + ": main class " + main);
        assertTrue(Files.readString(source).contains("public static void main("), main + " has a main method");
        spec.get("environment").fieldNames().forEachRemaining(variable ->
            assertTrue(documented.contains(variable), name + " sets " + variable + ", which no configuration table documents"));
        assertEquals("kafka:9092", spec.at("/environment/KAFKA_BOOTSTRAP_SERVERS").asText(), name);
      }
      JsonNode dependsOn = spec.get("depends_on");
      if (dependsOn != null) {
        dependsOn.fieldNames().forEachRemaining(dependency ->
            assertTrue(services.has(dependency), name + " depends on unknown service " + dependency));
      }
    }
    assertEquals(Set.of("metering-stream", "alert-service", "admin-api", "demo-gateway"), built);
    assertEquals("http://metering-stream:8081", services.at("/admin-api/environment/METERING_QUERY_URL").asText());
    assertEquals("mailpit", services.at("/alert-service/environment/SMTP_HOST").asText());
  }

  @Test
  void shouldKeepEveryDirectoryAServiceMustNotLoseOnANamedVolume() throws IOException {
    JsonNode compose = new ObjectMapper(new YAMLFactory()).readTree(ROOT.resolve("docker-compose.yml").toFile());
    // metering-stream's state, and the usage a gateway served and Kafka has not acknowledged yet
    Map<String, String> kept = Map.of("metering-stream", "METERING_STATE_DIR", "demo-gateway", "GATEWAY_USAGE_SPOOL_DIR");
    kept.forEach((service, variable) -> {
      String directory = compose.at("/services/" + service + "/environment/" + variable).asText();
      assertTrue(directory.startsWith("/"), service + " sets " + variable);
      boolean onVolume = false;
      for (JsonNode volume : compose.at("/services/" + service + "/volumes")) {
        String[] parts = volume.asText().split(":");
        onVolume |= compose.at("/volumes").has(parts[0]) && (directory + "/").startsWith(parts[1] + "/");
      }
      assertTrue(onVolume, service + "'s " + variable + " (" + directory + ") is on a named volume");
    });
  }

  @Test
  void shouldRunTheBrokerOfTheKafkaVersionTheCodeIsBuiltWith() throws IOException {
    JsonNode compose = new ObjectMapper(new YAMLFactory()).readTree(ROOT.resolve("docker-compose.yml").toFile());
    Matcher version = Pattern.compile("<kafka.version>([^<]+)</kafka.version>").matcher(Files.readString(ROOT.resolve("pom.xml")));
    assertTrue(version.find(), "the root pom sets kafka.version");

    assertEquals("apache/kafka:" + version.group(1), compose.at("/services/kafka/image").asText());
  }

  /** Variables named in the first column of the configuration tables (docs/configuration.md). */
  private static Set<String> documentedVariables() throws IOException {
    Set<String> variables = new HashSet<>();
    Matcher row = Pattern.compile("(?m)^\\| (`[A-Z_]+`(?: / `[A-Z_]+`)*) \\|").matcher(Files.readString(ROOT.resolve("docs/configuration.md")));
    while (row.find()) {
      Matcher name = Pattern.compile("`([A-Z_]+)`").matcher(row.group(1));
      while (name.find()) {
        variables.add(name.group(1));
      }
    }
    return variables;
  }
}
