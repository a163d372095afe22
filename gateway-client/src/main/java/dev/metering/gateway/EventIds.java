package dev.metering.gateway;

import java.security.SecureRandom;
import java.util.UUID;

/**
 * Time-ordered unique event ids in the UUID version 7 layout: 48 bits of Unix milliseconds, then
 * random bits. Ids sort by creation time, which keeps dedup state and logs readable.
 */
public final class EventIds {

  private static final SecureRandom RANDOM = new SecureRandom();

  private EventIds() {
  }

  public static String next(long epochMillis) {
    long high = (epochMillis << 16) | 0x7000L | (RANDOM.nextInt() & 0x0FFFL);
    long low = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(high, low).toString();
  }
}
