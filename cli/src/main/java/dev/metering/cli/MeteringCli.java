package dev.metering.cli;

import dev.metering.client.AdminApiException;
import dev.metering.client.AdminClient;
import java.io.PrintWriter;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Objects;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code ./metering}: the admin API and the dead-letter topic from a shell. Keys, alerts, usage
 * and audit go through admin-api with an admin key, under the same authorisation as any client;
 * {@code dlq} and {@code instances} talk to Kafka directly, for the operators who run the system.
 */
@Command(name = "metering", mixinStandardHelpOptions = true, versionProvider = MeteringCli.Version.class,
    description = "Manage API keys, alert rules, usage, the audit log and the dead-letter topic of the token metering"
        + " system.",
    subcommands = {KeysCommand.class, AlertsCommand.class, BudgetCommand.class, UsageCommand.class, AuditCommand.class, DlqCommand.class,
        InstancesCommand.class,
        CommandLine.HelpCommand.class},
    footerHeading = "%nEnvironment:%n",
    footer = {
        "  METERING_URL             the admin API (default http://localhost:8080)",
        "  METERING_ADMIN_KEY       an admin key of your organisation",
        "  KAFKA_BOOTSTRAP_SERVERS  Kafka, for dlq and instances (default localhost:9092)",
        "",
        "Exit codes:",
        "  0  done",
        "  1  refused by the API (invalid request, conflict)",
        "  2  wrong command line, or a setting missing",
        "  3  not found",
        "  4  not authenticated, or not allowed",
        "  5  service unavailable or unreachable"})
public final class MeteringCli implements Runnable {

  static final int REFUSED = 1;
  static final int USAGE = 2;
  static final int NOT_FOUND = 3;
  static final int DENIED = 4;
  static final int UNAVAILABLE = 5;

  @Spec
  CommandSpec spec;

  private final Map<String, String> env;

  MeteringCli(Map<String, String> env) {
    this.env = Objects.requireNonNull(env, "env");
  }

  public static void main(String[] args) {
    System.exit(commandLine(System.getenv()).execute(args));
  }

  /** The command line with its exit codes and error printing, for {@code main} and tests alike. */
  static CommandLine commandLine(Map<String, String> env) {
    CommandLine cli = new CommandLine(new MeteringCli(env));
    cli.setCaseInsensitiveEnumValuesAllowed(true);
    cli.setExecutionExceptionHandler((e, commandLine, parsed) -> {
      PrintWriter err = commandLine.getErr();
      err.println("error: " + message(e, env));
      err.flush();
      return exitCode(e);
    });
    return cli;
  }

  /** What went wrong, with where to look when Kafka did not answer (its clients' own warnings are off). */
  static String message(Exception e, Map<String, String> env) {
    if (e instanceof org.apache.kafka.common.errors.TimeoutException) {
      return e.getMessage() + ": no answer from Kafka at " + bootstrapServers(env)
          + " (set KAFKA_BOOTSTRAP_SERVERS to a broker of the metering cluster)";
    }
    return e.getMessage();
  }

  static int exitCode(Exception e) {
    if (e instanceof MissingSetting || e instanceof CommandLine.ParameterException) {
      return USAGE;
    }
    if (e instanceof NotFound) {
      return NOT_FOUND;
    }
    if (e instanceof AdminApiException api) {
      int status = api.status();
      if (status == 0 || status >= 500 || status == 429) {
        return UNAVAILABLE;
      }
      return status == 404 ? NOT_FOUND : status == 401 || status == 403 ? DENIED : REFUSED;
    }
    if (e instanceof org.apache.kafka.common.errors.TimeoutException) {
      return UNAVAILABLE;
    }
    return REFUSED;
  }

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** The admin API client, from METERING_URL and METERING_ADMIN_KEY. */
  AdminClient admin() {
    String key = env.get("METERING_ADMIN_KEY");
    if (key == null || key.isBlank()) {
      throw new MissingSetting("METERING_ADMIN_KEY is not set: export an admin key of your organisation"
          + " (it is read from the environment only, never from the command line, so it stays out of shell history)");
    }
    return AdminClient.create(env.getOrDefault("METERING_URL", "http://localhost:8080"), key.strip());
  }

  String kafkaBootstrapServers() {
    return bootstrapServers(env);
  }

  /** A setting shared with the services, such as the group ids they run under. */
  String env(String name, String otherwise) {
    String value = env.get(name);
    return value == null || value.isBlank() ? otherwise : value.strip();
  }

  private static String bootstrapServers(Map<String, String> env) {
    return env.getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092");
  }

  /** Today in UTC, the day the API's dates are counted in. */
  static LocalDate today() {
    return LocalDate.now(ZoneOffset.UTC);
  }

  /** A setting the command needs is missing from the environment. */
  static final class MissingSetting extends RuntimeException {
    MissingSetting(String message) {
      super(message);
    }
  }

  /** What the command was to act on does not exist. */
  static final class NotFound extends RuntimeException {
    NotFound(String message) {
      super(message);
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = MeteringCli.class.getPackage().getImplementationVersion();
      return new String[] {"metering " + (version == null ? "(development build)" : version)};
    }
  }
}
