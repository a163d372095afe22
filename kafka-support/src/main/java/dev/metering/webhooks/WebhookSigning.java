package dev.metering.webhooks;

import dev.metering.config.Env;
import dev.metering.config.InvalidConfigException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Webhook signatures in the Standard Webhooks form, with one secret per alert rule.
 *
 * <p>A rule's secret ({@code whsec_<base64 of 32 bytes>}) is derived, never stored: HMAC-SHA256
 * under the deployment's signing key ({@code METERING_WEBHOOK_SIGNING_KEY}, shared by admin-api,
 * which shows the secret once, and alert-service, which signs) of the rule id and its secret
 * version; rotating a rule's secret moves its version. A tenant knows only its own rules'
 * secrets, so it can neither verify nor forge another tenant's alerts.
 *
 * <p>Each request carries {@code webhook-id} (the notification id, stable across retries),
 * {@code webhook-timestamp} (unix seconds) and {@code webhook-signature}: {@code v1,<base64 of
 * HMAC-SHA256(secret bytes, "<id>.<timestamp>.<body>")>}. Receivers recompute it, compare in
 * constant time, and refuse timestamps more than {@link #TOLERANCE_SECONDS} from their clock.
 */
public final class WebhookSigning {

  public static final String ID_HEADER = "webhook-id";
  public static final String TIMESTAMP_HEADER = "webhook-timestamp";
  public static final String SIGNATURE_HEADER = "webhook-signature";
  public static final String SECRET_PREFIX = "whsec_";
  /** How far a receiver should accept a timestamp from its own clock, either way. */
  public static final long TOLERANCE_SECONDS = 300;
  public static final int MIN_KEY_LENGTH = 32;

  private final byte[] signingKey;

  public WebhookSigning(String signingKey) {
    this.signingKey = signingKey.getBytes(StandardCharsets.UTF_8);
  }

  /** {@code METERING_WEBHOOK_SIGNING_KEY}: required, at least {@value #MIN_KEY_LENGTH} characters. */
  public static WebhookSigning from(Env env) {
    String key = env.string("METERING_WEBHOOK_SIGNING_KEY", null);
    if (key == null || key.strip().length() < MIN_KEY_LENGTH) {
      throw new InvalidConfigException("METERING_WEBHOOK_SIGNING_KEY", key == null ? "(unset)" : "(not shown)",
          "a random key of at least " + MIN_KEY_LENGTH + " characters shared by admin-api and alert-service,"
              + " e.g. from openssl rand -hex 32");
    }
    return new WebhookSigning(key.strip());
  }

  /** The secret of rule {@code ruleId} at secret version {@code version}. */
  public String secretFor(String ruleId, int version) {
    return SECRET_PREFIX + Base64.getEncoder().encodeToString(
        hmac(signingKey, "metering-webhook-secret|" + ruleId + "|" + version));
  }

  /** The {@code webhook-signature} value of a request signed with {@code secret}. */
  public static String signature(String secret, String id, long timestampSeconds, String body) {
    return "v1," + Base64.getEncoder().encodeToString(hmac(key(secret), id + "." + timestampSeconds + "." + body));
  }

  /**
   * What a receiver does: whether {@code signatureHeader} (one or more space-separated
   * signatures) signs the request with {@code secret} and its timestamp is within the tolerance
   * of {@code nowSeconds}.
   */
  public static boolean verify(String secret, String id, String timestampHeader, String signatureHeader, String body,
      long nowSeconds) {
    if (id == null || timestampHeader == null || signatureHeader == null) {
      return false;
    }
    long timestamp;
    try {
      timestamp = Long.parseLong(timestampHeader.strip());
    } catch (NumberFormatException e) {
      return false;
    }
    if (Math.abs(nowSeconds - timestamp) > TOLERANCE_SECONDS) {
      return false;
    }
    byte[] expected = signature(secret, id, timestamp, body).getBytes(StandardCharsets.US_ASCII);
    for (String candidate : signatureHeader.strip().split(" ")) {
      if (MessageDigest.isEqual(expected, candidate.getBytes(StandardCharsets.US_ASCII))) {
        return true;
      }
    }
    return false;
  }

  private static byte[] key(String secret) {
    String encoded = secret.startsWith(SECRET_PREFIX) ? secret.substring(SECRET_PREFIX.length()) : secret;
    return Base64.getDecoder().decode(encoded);
  }

  private static byte[] hmac(byte[] key, String text) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is unavailable", e);
    }
  }

  @Override
  public String toString() {
    return "WebhookSigning[***]";
  }
}
