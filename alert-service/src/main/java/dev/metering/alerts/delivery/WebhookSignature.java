package dev.metering.alerts.delivery;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The webhook signature: {@code t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">}. Receivers
 * recompute it with the shared secret, compare in constant time and reject old timestamps.
 */
public final class WebhookSignature {

  private final SecretKeySpec key;

  public WebhookSignature(String secret) {
    this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
  }

  public String header(long timestampSeconds, byte[] body) {
    return "t=" + timestampSeconds + ",v1=" + HexFormat.of().formatHex(mac(timestampSeconds, body));
  }

  /** Whether {@code header} signs {@code body} with this secret (constant-time comparison). */
  public boolean verifies(String header, byte[] body) {
    if (header == null) {
      return false;
    }
    long t = -1;
    String v1 = null;
    for (String part : header.split(",")) {
      String[] kv = part.split("=", 2);
      if (kv.length == 2 && kv[0].equals("t")) {
        try {
          t = Long.parseLong(kv[1]);
        } catch (NumberFormatException e) {
          return false;
        }
      } else if (kv.length == 2 && kv[0].equals("v1")) {
        v1 = kv[1];
      }
    }
    if (t < 0 || v1 == null) {
      return false;
    }
    byte[] given;
    try {
      given = HexFormat.of().parseHex(v1);
    } catch (IllegalArgumentException e) {
      return false;
    }
    return MessageDigest.isEqual(mac(t, body), given);
  }

  private byte[] mac(long timestampSeconds, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(key);
      mac.update((timestampSeconds + ".").getBytes(StandardCharsets.UTF_8));
      return mac.doFinal(body);
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable", e);
    }
  }
}
