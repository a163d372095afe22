package dev.metering.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class WebhookSigningTest {

  @Test
  void shouldSignAsTheStandardWebhooksSpecificationsExample() {
    // the example of the Standard Webhooks specification: what any of its verifier libraries accepts
    String secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    String body = "{\"test\": 2432232314}";

    String signature = WebhookSigning.signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);

    assertEquals("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    assertTrue(WebhookSigning.verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v0,xx " + signature, body,
        1614265330 + WebhookSigning.TOLERANCE_SECONDS));
    assertFalse(WebhookSigning.verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", signature, body,
        1614265330 + WebhookSigning.TOLERANCE_SECONDS + 1), "outside the tolerance");
    assertFalse(WebhookSigning.verify(secret, "msg_other", "1614265330", signature, body, 1614265330));
    assertFalse(WebhookSigning.verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", signature, body + " ", 1614265330));
    assertFalse(WebhookSigning.verify(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "soon", signature, body, 1614265330));
  }

  @Test
  void shouldDeriveOneSecretPerRuleAndVersionThatOnlyTheSigningKeyGives() {
    WebhookSigning signing = new WebhookSigning("deployment-signing-key-0123456789abcdef");

    String secret = signing.secretFor("alr_1", 1);

    assertEquals(secret, new WebhookSigning("deployment-signing-key-0123456789abcdef").secretFor("alr_1", 1));
    assertNotEquals(secret, signing.secretFor("alr_2", 1), "another rule");
    assertNotEquals(secret, signing.secretFor("alr_1", 2), "after rotation");
    assertNotEquals(secret, new WebhookSigning("another-deployment-key-0123456789abcdef").secretFor("alr_1", 1));
    assertTrue(secret.matches("whsec_[A-Za-z0-9+/]{43}="), secret);
    assertEquals("WebhookSigning[***]", signing.toString());
  }
}
