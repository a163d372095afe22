package dev.metering.cli;

import dev.metering.api.admin.ApiKeyInfo;
import dev.metering.api.admin.CreateApiKey;
import dev.metering.client.AdminClient;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "keys", mixinStandardHelpOptions = true, description = "List, create and change API keys.")
final class KeysCommand extends CommandGroup {

  /** What a table of keys shows; json and csv have every field. */
  static final List<String> COLUMNS = List.of("id", "name", "status", "suspended", "suspended_until", "max_tokens_per_month",
      "max_cost_per_month", "hard_limit", "key_prefix", "created_at");

  @Command(name = "list", mixinStandardHelpOptions = true, description = "The organisation's keys, newest first.")
  void list(@Option(names = "--status", paramLabel = "STATUS", description = "active or revoked") String status,
      @Mixin Output.Options output) {
    out(output).many(root.admin().apiKeys().list(status), COLUMNS);
  }

  @Command(name = "get", mixinStandardHelpOptions = true, description = "One key.")
  void get(@Parameters(paramLabel = "KEY_ID") String id, @Mixin Output.Options output) {
    out(output).one(root.admin().apiKeys().get(id));
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Create a key. Its secret is printed this once: store it now.")
  void create(@Option(names = "--name", required = true, paramLabel = "NAME", description = "at most 256 characters") String name,
      @Option(names = "--description", paramLabel = "TEXT") String description,
      @Option(names = "--permissions", split = ",", paramLabel = "PERMISSION",
          description = "messages:read, messages:write, admin (default messages:read,messages:write)")
      List<String> permissions,
      @Option(names = "--max-tokens-per-month", paramLabel = "TOKENS",
          description = "monthly limit in tokens (UTC calendar month); none by default") Long maxTokens,
      @Option(names = "--max-cost-per-month", paramLabel = "DOLLARS",
          description = "monthly limit in dollars of estimated cost, such as 12.50; none by default") String maxCost,
      @Option(names = "--hard-limit", description = "suspend the key when it reaches a limit (whichever comes first)")
      boolean hardLimit,
      @Mixin Output.Options output) {
    CreateApiKey request = CreateApiKey.named(name).description(description).maxTokensPerMonth(maxTokens)
        .maxCostPerMonth(maxCost).hardLimit(hardLimit);
    if (permissions != null) {
      request = request.permissions(permissions.toArray(String[]::new));
    }
    ApiKeyInfo created = root.admin().apiKeys().create(request);
    out(output).one(created);
    secretShownOnce();
  }

  @Command(name = "update", mixinStandardHelpOptions = true,
      description = "Change a key's name, description, permissions, limit or hard limit; what is not given stays.")
  void update(@Parameters(paramLabel = "KEY_ID") String id,
      @Option(names = "--name", paramLabel = "NAME") String name,
      @Option(names = "--description", paramLabel = "TEXT", description = "an empty string clears it") String description,
      @Option(names = "--permissions", split = ",", paramLabel = "PERMISSION",
          description = "the new set: messages:read, messages:write, admin") List<String> permissions,
      @Option(names = "--max-tokens-per-month", paramLabel = "TOKENS|unlimited",
          description = "a new monthly limit, or unlimited to remove it") String maxTokens,
      @Option(names = "--max-cost-per-month", paramLabel = "DOLLARS|unlimited",
          description = "a new monthly limit in dollars (such as 12.50), or unlimited to remove it") String maxCost,
      @Option(names = "--hard-limit", arity = "1", paramLabel = "true|false",
          description = "whether reaching the limit suspends the key") Boolean hardLimit,
      @Mixin Output.Options output) {
    AdminClient.UpdateApiKey changes = AdminClient.UpdateApiKey.changes();
    if (name != null) {
      changes.name(name);
    }
    if (description != null) {
      changes.description(description.isEmpty() ? null : description);
    }
    if (permissions != null) {
      changes.permissions(permissions.toArray(String[]::new));
    }
    limits(changes, maxTokens, maxCost, hardLimit);
    out(output).one(root.admin().apiKeys().update(id, changes));
  }

  @Command(name = "rotate", mixinStandardHelpOptions = true,
      description = "Give a key a new secret (printed this once); the old one keeps working for the grace period.")
  void rotate(@Parameters(paramLabel = "KEY_ID") String id,
      @Option(names = "--grace-period", paramLabel = "DURATION", defaultValue = "0s",
          description = "how long the old secret still works: 0s, 30m, 24h, 7d (default ${DEFAULT-VALUE})")
      String grace,
      @Mixin Output.Options output) {
    out(output).one(root.admin().apiKeys().rotate(id, Durations.parse("--grace-period", grace, spec)));
    secretShownOnce();
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = "Revoke a key: gateways refuse it from now on. A revoked key stays listed, with its history.")
  void revoke(@Parameters(paramLabel = "KEY_ID") String id, @Mixin Output.Options output) {
    out(output).one(root.admin().apiKeys().revoke(id));
  }

  private void secretShownOnce() {
    PrintWriter err = spec.commandLine().getErr();
    err.println("The secret (key) is shown only now: store it in your secret manager.");
    err.flush();
  }
}
