package dev.metering.webhooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.config.Env;
import dev.metering.config.InvalidConfigException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class WebhookTargetsTest {

  private final WebhookTargets strict = new WebhookTargets(false, List.of());

  @Test
  void shouldRefuseEveryAddressInsideTheNetworkWhateverItsSpelling() {
    for (String url : List.of("https://127.0.0.1/", "https://127.1.2.3/", "https://localhost/", "https://[::1]/",
        "https://10.1.2.3/", "https://172.16.0.1/", "https://192.168.0.1/", "https://169.254.169.254/latest",
        "https://[fe80::1]/", "https://[fd00::1]/", "https://100.64.0.1/", "https://0.0.0.0/", "https://[::]/",
        "https://224.0.0.1/", "https://[::ffff:127.0.0.1]/", "https://[::ffff:a9fe:a9fe]/", "https://2130706433/",
        "https://0x7f000001/")) {
      assertTrue(strict.problem(url, true).isPresent(), url + " must be refused");
    }
  }

  @Test
  void shouldRefuseAnAddressWithALeadingZeroOrInHexWithoutLookingItUp() {
    // Java reads 0177.0.0.1 as the public 177.0.0.1 and accepted it; curl and C read it as 127.0.0.1
    for (String url : List.of("https://0177.0.0.1/", "https://0x7f000001/", "https://08.8.8.8/",
        "https://8.8.8.010/")) {
      assertTrue(strict.urlProblem(url).orElse("accepted").contains("leading zero or in hex"), url);
    }
    assertEquals(Optional.of("it has no host"), strict.urlProblem("https://0x7f.0.0.1/"), "java.net.URI's reading");
    for (String url : List.of("https://8.8.8.8/", "https://0ad.be/", "https://0.example.com/", "https://[::1]/",
        "https://10.0.0.1/")) {
      assertEquals(Optional.empty(), strict.urlProblem(url), url + " is no such spelling");
    }
  }

  @Test
  void shouldRefuseAnIpv6AddressThatCarriesARestrictedIpv4One() {
    // accepted before: each reaches the IPv4 address it carries through a translator or relay
    Map<String, String> refused = Map.of(
        "https://[::127.0.0.1]/", "a loopback address",
        "https://[::10.0.0.1]/", "a private address",
        "https://[64:ff9b::7f00:1]/", "a NAT64-translated loopback address",
        "https://[64:ff9b::a9fe:a9fe]/", "a NAT64-translated link-local address",
        "https://[64:ff9b:1::8.8.8.8]/", "a NAT64 local-use address",
        "https://[2002:a00:1::]/", "a 6to4-relayed private address",
        "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", "a Teredo-relayed loopback address");
    refused.forEach((url, kind) ->
        assertTrue(strict.problem(url, true).orElse("accepted").contains(kind),
            url + ": " + strict.problem(url, true)));

    for (String url : List.of("https://[64:ff9b::808:808]/", "https://[2002:808:808::1]/", "https://[::8.8.8.8]/",
        "https://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/")) {
      assertEquals(Optional.empty(), strict.problem(url, true), url + " carries the public 8.8.8.8");
    }
  }

  @Test
  void shouldAcceptPublicHttpsTargetsAndTellWhatIsWrongWithTheRest() {
    assertEquals(Optional.empty(), strict.problem("https://8.8.8.8/hook", true));
    assertEquals(Optional.empty(), strict.problem("https://[2001:4860:4860::8888]/hook", true));
    assertEquals(Optional.of("it must be an https URL"), strict.problem("http://8.8.8.8/hook", true));
    assertEquals(Optional.of("it must be an https URL"), strict.problem("ftp://8.8.8.8/hook", true));
    assertEquals(Optional.of("it must not carry credentials before the host"), strict.problem("https://a:b@8.8.8.8/", true));
    assertEquals(Optional.empty(), strict.problem("https://hooks.invalid/x", false), "checked again when used");
    assertTrue(strict.problem("https://hooks.invalid/x", true).orElseThrow().contains("does not resolve"));
    assertTrue(strict.problem("https://169.254.169.254/", true).orElseThrow().contains("link-local"));
  }

  @Test
  void shouldLetAnOperatorAllowNetworksAndPlainHttp() {
    WebhookTargets allowing = WebhookTargets.from(new Env(Map.of("METERING_WEBHOOK_ALLOW_HTTP", "true",
        "METERING_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32, 10.20.0.0/16")));

    assertEquals(Optional.empty(), allowing.problem("http://127.0.0.1:9000/hook", true));
    assertEquals(Optional.empty(), allowing.problem("https://10.20.3.4/hook", true));
    assertTrue(allowing.problem("https://10.21.3.4/hook", true).isPresent());
    assertTrue(allowing.problem("http://127.0.0.2/hook", true).isPresent());
    assertThrows(InvalidConfigException.class, () -> WebhookTargets.from(new Env(Map.of(
        "METERING_WEBHOOK_ALLOWED_NETWORKS", "intranet.example/8"))));
    assertThrows(InvalidConfigException.class, () -> WebhookTargets.from(new Env(Map.of(
        "METERING_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/33"))));
  }
}
