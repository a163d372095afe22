package dev.metering.alerts.delivery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.metering.records.Notification;
import dev.metering.records.NotificationChannel;
import dev.metering.webhooks.WebhookSigning;
import dev.metering.webhooks.WebhookTargets;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The webhook channel against a real HTTP server on loopback. */
class WebhookChannelTest {

  private static final WebhookSigning SIGNING = new WebhookSigning("channel-test-signing-key-0123456789abcdef");

  private HttpServer server;
  private final List<Boolean> verified = Collections.synchronizedList(new ArrayList<>());

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    String secret = SIGNING.secretFor("alr_1", 3);
    server.createContext("/", exchange -> {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      var headers = exchange.getRequestHeaders();
      verified.add(WebhookSigning.verify(secret, headers.getFirst("webhook-id"), headers.getFirst("webhook-timestamp"),
          headers.getFirst("webhook-signature"), body, Clock.systemUTC().instant().getEpochSecond()));
      exchange.sendResponseHeaders(204, -1);
      exchange.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  @Test
  void shouldRefuseALoopbackTargetWhenItIsSentWithoutReachingIt() throws Exception {
    // issue 14: checked on the resolved address at send time too, whatever admin-api accepted
    WebhookChannel channel = new WebhookChannel(SIGNING, new WebhookTargets(true, List.of()), Duration.ofSeconds(2),
        Clock.systemUTC());

    Attempt attempt = channel.send(notification("http://localhost:" + server.getAddress().getPort() + "/hook", "alr_1:3"))
        .get();

    Attempt.Failed failed = assertInstanceOf(Attempt.Failed.class, attempt);
    assertTrue(failed.detail().contains("loopback"), failed.detail());
    assertEquals(List.of(), verified, "the server was never called");
    channel.close();
  }

  @Test
  void shouldSignWithTheRulesOwnSecretWhenTheTargetIsAllowed() throws Exception {
    WebhookChannel channel = new WebhookChannel(SIGNING, new WebhookTargets(true, List.of("127.0.0.1/32")),
        Duration.ofSeconds(2), Clock.systemUTC());
    String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";

    Attempt own = channel.send(notification(url, "alr_1:3")).get();
    Attempt other = channel.send(notification(url, "alr_2:3")).get();

    assertInstanceOf(Attempt.Delivered.class, own);
    assertInstanceOf(Attempt.Delivered.class, other);
    assertEquals(List.of(true, false), verified, "only rule alr_1's secret at version 3 verifies its webhook");
    channel.close();
  }

  @Test
  void shouldRetryWithinTheBackoffCapWhenRetryAfterIsHuge() throws Exception {
    // a Retry-After of Long.MAX_VALUE seconds used to overflow in milliseconds and fail the alert for good
    server.createContext("/busy", exchange -> {
      exchange.getResponseHeaders().add("Retry-After", Long.toString(Long.MAX_VALUE));
      exchange.sendResponseHeaders(503, -1);
      exchange.close();
    });
    WebhookChannel channel = new WebhookChannel(SIGNING, new WebhookTargets(true, List.of("127.0.0.1/32")),
        Duration.ofSeconds(2), Clock.systemUTC());

    Attempt attempt = channel.send(notification("http://127.0.0.1:" + server.getAddress().getPort() + "/busy",
        "alr_1:3")).get();

    Attempt.Retry retry = assertInstanceOf(Attempt.Retry.class, attempt);
    Duration wait = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(5)).before(2, retry.after().orElseThrow());
    assertEquals(Duration.ofMinutes(5), wait, "the server's wait, capped by the backoff's maximum");
    channel.close();
  }

  @Test
  void shouldConnectToTheAddressTheCheckResolvedAndNameTheHost() throws Exception {
    // one lookup serves the check and the connection: "hooks.example.test" exists only in the
    // table, so a second lookup (the system's) would not find it
    List<String> hosts = Collections.synchronizedList(new ArrayList<>());
    server.createContext("/named", exchange -> {
      hosts.add(exchange.getRequestHeaders().getFirst("Host"));
      exchange.sendResponseHeaders(204, -1);
      exchange.close();
    });
    int port = server.getAddress().getPort();
    WebhookChannel channel = new WebhookChannel(SIGNING, new WebhookTargets(true, List.of("127.0.0.1/32"),
        table(Map.of("hooks.example.test", "127.0.0.1"))), Duration.ofSeconds(2), Clock.systemUTC());

    Attempt attempt = channel.send(notification("http://hooks.example.test:" + port + "/named", "alr_1:3")).get();

    assertInstanceOf(Attempt.Delivered.class, attempt, attempt.toString());
    assertEquals(List.of("hooks.example.test:" + port), hosts);
    channel.close();
  }

  @Test
  void shouldRefuseANameWhenAnyOfItsAddressesIsInsideTheNetwork() throws Exception {
    WebhookChannel channel = new WebhookChannel(SIGNING, new WebhookTargets(true, List.of("127.0.0.1/32"),
        table(Map.of("hooks.example.test", "127.0.0.1,127.0.0.2"))), Duration.ofSeconds(2), Clock.systemUTC());

    Attempt attempt = channel.send(notification("http://hooks.example.test:" + server.getAddress().getPort() + "/hook",
        "alr_1:3")).get();

    Attempt.Failed failed = assertInstanceOf(Attempt.Failed.class, attempt);
    assertTrue(failed.detail().contains("loopback address (127.0.0.2)"), failed.detail());
    assertEquals(List.of(), verified, "the server was never called");
    channel.close();
  }

  @Test
  void shouldVerifyTheCertificateAgainstTheHostNameWhileConnectingToTheCheckedAddress(@TempDir Path dir)
      throws Exception {
    KeyStore keys = selfSigned(dir, "hooks.example.test");
    HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    SSLContext serverTls = SSLContext.getInstance("TLS");
    KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keys, PASSWORD);
    serverTls.init(keyManagers.getKeyManagers(), null, null);
    https.setHttpsConfigurator(new HttpsConfigurator(serverTls));
    List<String> reached = Collections.synchronizedList(new ArrayList<>());
    https.createContext("/", exchange -> {
      reached.add(exchange.getRequestHeaders().getFirst("Host"));
      exchange.getRequestBody().readAllBytes();
      exchange.sendResponseHeaders(204, -1);
      exchange.close();
    });
    https.start();
    SSLContext clientTls = SSLContext.getInstance("TLS");
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(keys);
    clientTls.init(null, trust.getTrustManagers(), null);
    int port = https.getAddress().getPort();
    WebhookChannel channel = new WebhookChannel(SIGNING, new WebhookTargets(false, List.of("127.0.0.1/32"),
        table(Map.of("hooks.example.test", "127.0.0.1", "other.example.test", "127.0.0.1"))), Duration.ofSeconds(5),
        Clock.systemUTC(), clientTls);
    try {
      Attempt named = channel.send(notification("https://hooks.example.test:" + port + "/hook", "alr_1:3")).get();
      Attempt other = channel.send(notification("https://other.example.test:" + port + "/hook", "alr_1:3")).get();

      assertInstanceOf(Attempt.Delivered.class, named, named.toString());
      assertInstanceOf(Attempt.Retry.class, other, "the certificate is not other.example.test's: " + other);
      assertEquals(List.of("hooks.example.test:" + port), reached, "only the name on the certificate was reached");
    } finally {
      channel.close();
      https.stop(0);
    }
  }

  @Test
  void shouldSayInWordsWhyAnEndpointCouldNotBeReached() throws Exception {
    int closed;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = socket.getLocalPort();
    }
    WebhookChannel channel = new WebhookChannel(SIGNING, new WebhookTargets(true, List.of("127.0.0.1/32")),
        Duration.ofSeconds(2), Clock.systemUTC());

    Attempt attempt = channel.send(notification("http://127.0.0.1:" + closed + "/hook", "alr_1:3")).get();

    Attempt.Retry retry = assertInstanceOf(Attempt.Retry.class, attempt);
    assertEquals("cannot reach: the connection was refused", retry.detail(), "not an exception's class name");
    channel.close();
  }

  @Test
  void shouldRetryANameThatDoesNotResolveYet() throws Exception {
    WebhookChannel channel = new WebhookChannel(SIGNING, new WebhookTargets(true, List.of("127.0.0.1/32"),
        table(Map.of())), Duration.ofSeconds(2), Clock.systemUTC());

    Attempt attempt = channel.send(notification("http://hooks.example.test/hook", "alr_1:3")).get();

    Attempt.Retry retry = assertInstanceOf(Attempt.Retry.class, attempt);
    assertEquals("cannot reach: its host does not resolve", retry.detail());
    channel.close();
  }

  @Test
  void shouldNotCarryACookieFromOneAnswerToTheNextRequest() throws Exception {
    // a host shared by two tenants' rules would otherwise hand one tenant's cookie to the other
    List<String> cookies = Collections.synchronizedList(new ArrayList<>());
    server.createContext("/cookie", exchange -> {
      cookies.add(String.valueOf(exchange.getRequestHeaders().getFirst("Cookie")));
      exchange.getResponseHeaders().add("Set-Cookie", "session=tenant-a; Path=/");
      exchange.sendResponseHeaders(204, -1);
      exchange.close();
    });
    WebhookChannel channel = new WebhookChannel(SIGNING, new WebhookTargets(true, List.of("127.0.0.1/32")),
        Duration.ofSeconds(2), Clock.systemUTC());
    String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/cookie";

    assertInstanceOf(Attempt.Delivered.class, channel.send(notification(url, "alr_1:3")).get());
    assertInstanceOf(Attempt.Delivered.class, channel.send(notification(url, "alr_2:3")).get());

    assertEquals(List.of("null", "null"), cookies);
    channel.close();
  }

  /** Name resolution from a table, standing in for DNS: each name to its comma-separated addresses. */
  private static WebhookTargets.Resolver table(Map<String, String> names) {
    return host -> {
      String addresses = names.get(host);
      if (addresses == null) {
        throw new UnknownHostException(host);
      }
      List<InetAddress> resolved = new ArrayList<>();
      for (String address : addresses.split(",")) {
        resolved.add(InetAddress.getByName(address));
      }
      return resolved.toArray(InetAddress[]::new);
    };
  }

  private static final char[] PASSWORD = "webhook-test".toCharArray();

  /** A key pair and a certificate for {@code name} only, made by the JDK's keytool. */
  private static KeyStore selfSigned(Path dir, String name) throws Exception {
    Path file = dir.resolve("webhook.p12");
    Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-alias", "webhook", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=" + name,
        "-ext", "SAN=dns:" + name, "-validity", "2", "-storetype", "PKCS12", "-keystore", file.toString(),
        "-storepass", new String(PASSWORD), "-keypass", new String(PASSWORD))
        .redirectErrorStream(true).start();
    String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, keytool.waitFor(), output);
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (var in = Files.newInputStream(file)) {
      keys.load(in, PASSWORD);
    }
    return keys;
  }

  private static Notification notification(String url, String signingKey) {
    return Notification.newBuilder().setId("ntf_" + signingKey.replace(':', '_')).setOrgId("org-1").setApiKeyId("key-1")
        .setChannel(NotificationChannel.WEBHOOK).setTarget(url).setSubject("s").setBody("{\"id\":1}")
        .setCause("test").setCreatedAt(0L).setSigningKey(signingKey).build();
  }
}
