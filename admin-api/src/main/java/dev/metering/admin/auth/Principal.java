package dev.metering.admin.auth;

import java.util.Objects;

/** Who is calling: an admin key of one organisation, acting as the admin named by the key. */
public record Principal(String orgId, String actor, String adminKeyId) {

  public Principal {
    Objects.requireNonNull(orgId, "orgId");
    Objects.requireNonNull(actor, "actor");
    Objects.requireNonNull(adminKeyId, "adminKeyId");
  }
}
