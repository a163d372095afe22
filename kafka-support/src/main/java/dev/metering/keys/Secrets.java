package dev.metering.keys;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.zip.CRC32;

/**
 * API key secrets: {@code sk-mtr-} + 32 random base62 characters (190 bits) + a 6-character
 * CRC32 checksum, so secret scanners can recognise a leaked key and tell it from noise. Only
 * the SHA-256 of a secret is ever stored.
 */
public final class Secrets {

  public static final String PREFIX = "sk-mtr-";
  private static final String BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  private static final int BODY_LENGTH = 32;
  private static final int CHECKSUM_LENGTH = 6;
  private static final SecureRandom RANDOM = new SecureRandom();

  private Secrets() {
  }

  public static String generate() {
    StringBuilder body = new StringBuilder(BODY_LENGTH);
    for (int i = 0; i < BODY_LENGTH; i++) {
      body.append(BASE62.charAt(RANDOM.nextInt(BASE62.length())));
    }
    return PREFIX + body + checksum(body.toString());
  }

  /** Whether {@code secret} has our shape and a valid checksum; cheap to check before any lookup. */
  public static boolean wellFormed(String secret) {
    if (secret == null || secret.length() != PREFIX.length() + BODY_LENGTH + CHECKSUM_LENGTH
        || !secret.startsWith(PREFIX)) {
      return false;
    }
    String body = secret.substring(PREFIX.length(), PREFIX.length() + BODY_LENGTH);
    return body.chars().allMatch(c -> BASE62.indexOf(c) >= 0)
        && secret.endsWith(checksum(body));
  }

  /** Hex SHA-256 of the secret: what api-keys stores. */
  public static String hash(String secret) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  /** Compares two hashes in constant time. */
  public static boolean sameHash(String a, String b) {
    return a != null && b != null
        && MessageDigest.isEqual(a.getBytes(StandardCharsets.US_ASCII), b.getBytes(StandardCharsets.US_ASCII));
  }

  /** What may be shown of a secret: its first characters. */
  public static String displayPrefix(String secret) {
    return secret.substring(0, PREFIX.length() + 4);
  }

  private static String checksum(String body) {
    CRC32 crc = new CRC32();
    crc.update((PREFIX + body).getBytes(StandardCharsets.US_ASCII));
    long value = crc.getValue();
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < CHECKSUM_LENGTH; i++) {
      out.append(BASE62.charAt((int) (value % 62)));
      value /= 62;
    }
    return out.toString();
  }
}
