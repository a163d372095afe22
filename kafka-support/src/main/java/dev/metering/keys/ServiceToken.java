package dev.metering.keys;

import dev.metering.config.Env;
import dev.metering.config.InvalidConfigException;
import java.util.Objects;

/**
 * A shared secret between services (admin-api and metering-stream, metering-stream instances
 * among themselves), sent as {@code Authorization: Bearer <token>}. It never appears in
 * {@link #toString()}, and a presented token is compared by hash in constant time.
 */
public final class ServiceToken {

  public static final int MIN_LENGTH = 16;

  private final String value;
  private final String hash;
  private final boolean generated;

  private ServiceToken(String value, boolean generated) {
    this.value = Objects.requireNonNull(value, "value");
    this.hash = Secrets.hash(value);
    this.generated = generated;
  }

  /**
   * The token in {@code variable}; when it is unset, a random one if {@code generateIfUnset}
   * (good for one process only: no other service knows it), else an error.
   */
  public static ServiceToken from(Env env, String variable, boolean generateIfUnset) {
    String value = env.string(variable, null);
    if (value == null) {
      if (generateIfUnset) {
        return new ServiceToken(Secrets.generate(), true);
      }
      throw new InvalidConfigException(variable, "(unset)", "a shared service token of at least " + MIN_LENGTH
          + " characters");
    }
    if (value.strip().length() < MIN_LENGTH) {
      throw new InvalidConfigException(variable, "(not shown)", "a shared service token of at least " + MIN_LENGTH
          + " characters");
    }
    return new ServiceToken(value.strip(), false);
  }

  public static ServiceToken of(String value) {
    return new ServiceToken(value, false);
  }

  /** The Authorization header value that presents this token. */
  public String authorization() {
    return "Bearer " + value;
  }

  /** Whether an Authorization header presents this token. */
  public boolean accepts(String authorization) {
    return authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
        && Secrets.sameHash(hash, Secrets.hash(authorization.substring(7).strip()));
  }

  /** Whether this token was made up at start-up because none was configured. */
  public boolean generated() {
    return generated;
  }

  @Override
  public String toString() {
    return generated ? "(generated)" : "***";
  }
}
