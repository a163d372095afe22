package dev.metering.admin.auth;

import dev.metering.admin.http.ApiError;
import io.javalin.http.Context;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The one secret a request presents. A request may carry its credential in {@code Authorization:
 * Bearer} or (for admin keys) in {@code x-api-key}, the same secret in both if it likes, but not two
 * different ones, and neither header twice with different values: which of two secrets a server
 * reads is up to the server, and a proxy in front that rate-limits, logs or routes by one header
 * while this server authenticates by the other would act for another organisation than the one the
 * request acts in. Such a request is refused (401), as query parameters given twice are (400).
 */
public final class Credentials {

  private static final String BEARER = "Bearer ";

  private Credentials() {
  }

  /** Every value of the request's header {@code name}, in order; empty if it has none. */
  public static List<String> headers(Context ctx, String name) {
    return Collections.list(ctx.req().getHeaders(name));
  }

  /**
   * @param authorization every {@code Authorization} header of the request
   * @param apiKey every {@code x-api-key} header of the request (empty where the route takes none)
   * @param how how a request presents the secret, for the errors, e.g. "Authorization: Bearer
   *     &lt;admin key&gt; or x-api-key"
   * @return the secret, or null if the request presents none
   * @throws ApiError 401 if an Authorization header is not a bearer credential, or the request
   *     presents two different secrets
   */
  public static String single(List<String> authorization, List<String> apiKey, String how) {
    Set<String> secrets = new LinkedHashSet<>();
    for (String value : authorization) {
      if (value == null || value.isBlank()) {
        continue;
      }
      if (!value.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
        throw ApiError.unauthorized("use " + how);
      }
      secrets.add(value.substring(BEARER.length()).strip());
    }
    for (String value : apiKey) {
      if (value != null && !value.isBlank()) {
        secrets.add(value.strip());
      }
    }
    secrets.remove("");
    if (secrets.size() > 1) {
      throw ApiError.unauthorized("the request presents " + secrets.size() + " different credentials; send one ("
          + how + ")");
    }
    return secrets.isEmpty() ? null : secrets.iterator().next();
  }
}
