package dev.metering.admin.ingest;

import dev.metering.config.InvalidConfigException;
import dev.metering.keys.Secrets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A gateway's credential for {@code POST /v1/usage/events}: who the gateway is, the organisations
 * it reports usage for, and the SHA-256 of its token. The events it sends are recorded under its
 * id, whatever they claim, and may only name keys of its organisations.
 *
 * <p>Configured as {@code GATEWAY_TOKENS=<gateway_id>:<org>[|<org>...]:<token>,...}; a token is at
 * least {@value #MIN_TOKEN_LENGTH} characters.
 */
public record GatewayToken(String gatewayId, Set<String> orgIds, String tokenHash) {

  public static final int MIN_TOKEN_LENGTH = 16;

  public GatewayToken {
    Objects.requireNonNull(gatewayId, "gatewayId");
    orgIds = Set.copyOf(orgIds);
    Objects.requireNonNull(tokenHash, "tokenHash");
  }

  /** Parses {@code GATEWAY_TOKENS}; the tokens themselves are kept only as hashes. */
  public static List<GatewayToken> parse(String variable, String value) {
    List<GatewayToken> tokens = new ArrayList<>();
    for (String entry : value.split(",")) {
      if (entry.isBlank()) {
        continue;
      }
      String[] parts = entry.strip().split(":", 3);
      if (parts.length != 3 || parts[0].isBlank() || parts[1].isBlank() || parts[2].strip().length() < MIN_TOKEN_LENGTH) {
        // the entry holds a secret: name its position, never its text
        throw new InvalidConfigException(variable, "entry " + (tokens.size() + 1) + " (not shown)",
            "comma-separated <gateway_id>:<org>[|<org>...]:<token> entries, each token at least "
                + MIN_TOKEN_LENGTH + " characters");
      }
      Set<String> orgs = new java.util.HashSet<>(List.of(parts[1].strip().split("\\|")));
      tokens.add(new GatewayToken(parts[0].strip(), orgs, Secrets.hash(parts[2].strip())));
    }
    return List.copyOf(tokens);
  }

  public boolean mayReportFor(String orgId) {
    return orgIds.contains(orgId);
  }
}
