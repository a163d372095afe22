package dev.metering.cli;

import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "alerts", mixinStandardHelpOptions = true,
    description = "Threshold alert rules: email or webhook when a key, or the organisation, reaches a share of its"
        + " monthly limit or budget.")
final class AlertsCommand extends CommandGroup {

  private static final List<String> COLUMNS = List.of("id", "name", "key_id", "threshold_percent",
      "notification_email", "webhook_url", "created_at");

  @Command(name = "list", mixinStandardHelpOptions = true, description = "The organisation's alert rules.")
  void list(@Option(names = "--key-id", paramLabel = "KEY_ID", description = "only this key's rules") String keyId,
      @Mixin Output.Options output) {
    out(output).many(root.admin().alerts().list().stream()
        .filter(rule -> keyId == null || keyId.equals(rule.keyId())).toList(), COLUMNS);
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Create a rule; with a webhook, its signing secret is printed this once.")
  void create(@Option(names = "--name", required = true, paramLabel = "NAME") String name,
      @Option(names = "--key-id", paramLabel = "KEY_ID",
          description = "the key it watches; without it, the organisation's budget") String keyId,
      @Option(names = "--threshold-percent", required = true, paramLabel = "1..100",
          description = "share of the monthly limit (or budget), in tokens and in dollars, that fires it") int percent,
      @Option(names = "--email", paramLabel = "ADDRESS", description = "send the alert to this address") String email,
      @Option(names = "--webhook-url", paramLabel = "URL",
          description = "POST the alert here, signed; the signing secret is printed once") String webhookUrl,
      @Mixin Output.Options output) {
    out(output).one(root.admin().alerts().create(name, keyId, percent, email, webhookUrl));
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a rule.")
  void delete(@Parameters(paramLabel = "ALERT_ID") String id, @Mixin Output.Options output) {
    root.admin().alerts().delete(id);
    out(output).one(Map.of("id", id, "deleted", true));
  }
}
