package dev.metering.local;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.metering.admin.AdminApi;
import dev.metering.admin.AdminConfig;
import dev.metering.alerts.AlertService;
import dev.metering.alerts.AlertServiceConfig;
import dev.metering.api.admin.CreateApiKey;
import dev.metering.client.AdminClient;
import dev.metering.config.Env;
import dev.metering.config.KafkaSettings;
import dev.metering.demo.DemoGateway;
import dev.metering.demo.TrafficGenerator;
import dev.metering.gateway.KeyGuard;
import dev.metering.gateway.UsageReporter;
import dev.metering.kafka.EmbeddedKafka;
import dev.metering.keys.Secrets;
import dev.metering.stream.MeteringApp;
import dev.metering.stream.MeteringConfig;
import dev.metering.stream.ingest.IngestCounters;
import dev.metering.stream.pricing.PriceBook;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The whole system in one process: a Kafka broker (unless KAFKA_BOOTSTRAP_SERVERS names one),
 * metering-stream, alert-service with an in-JVM SMTP sink, admin-api, the reference gateway and,
 * if asked, the traffic generator. Each part is configured by the same environment variables as
 * when it runs alone; only the defaults differ, so everything fits on one laptop.
 */
public final class LocalSystem implements AutoCloseable {

  private final List<AutoCloseable> parts = new ArrayList<>();
  private EmbeddedKafka kafka;
  private String bootstrapServers;
  private MeteringApp metering;
  private GreenMail smtp;
  private AdminApi admin;
  private KeyGuard guard;
  private DemoGateway gateway;
  private TrafficGenerator traffic;
  private String adminKey;
  private String gatewayToken;
  private String gatewayOrgs;
  private AlertService alerts;

  private LocalSystem() {
  }

  /** Starts every part; {@code traffic} also starts the traffic generator with its own keys. */
  public static LocalSystem start(Map<String, String> environment, boolean traffic) throws Exception {
    LocalSystem system = new LocalSystem();
    try {
      system.startParts(new HashMap<>(environment), traffic);
      return system;
    } catch (Exception | Error e) {
      system.close();
      throw e;
    }
  }

  private void startParts(Map<String, String> env, boolean withTraffic) throws Exception {
    if (env.get("KAFKA_BOOTSTRAP_SERVERS") == null) {
      kafka = EmbeddedKafka.start();
      parts.add(kafka);
      env.put("KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
    }
    bootstrapServers = env.get("KAFKA_BOOTSTRAP_SERVERS");
    env.putIfAbsent("METERING_TOPIC_PARTITIONS", "3");
    env.putIfAbsent("METERING_STATE_DIR", Files.createTempDirectory("metering-local").toString());
    env.putIfAbsent("METERING_ROCKSDB_MEMORY_MB", "64");
    env.putIfAbsent("ALERT_LAPSE_CHECK_INTERVAL", "5s");
    env.putIfAbsent("ALERT_DELIVERY_INITIAL_BACKOFF", "500ms");
    // one process: the query API's token and the webhook signing key are made up here and
    // handed to every part that needs them
    env.putIfAbsent("METERING_QUERY_TOKEN", Secrets.generate());
    env.putIfAbsent("METERING_WEBHOOK_SIGNING_KEY", Secrets.generate());
    KafkaSettings.from(new Env(env)).ensureTopics();

    metering = MeteringApp.start(MeteringConfig.from(new Env(env)), PriceBook.bundled());
    parts.add(metering);

    if (env.get("SMTP_HOST") == null) {
      int port = Integer.parseInt(env.getOrDefault("SMTP_PORT", "2525"));
      smtp = new GreenMail(new ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
      smtp.start();
      parts.add(smtp::stop);
      env.put("SMTP_HOST", "127.0.0.1");
      env.put("SMTP_PORT", Integer.toString(smtp.getSmtp().getPort()));
    }
    alerts = AlertService.start(AlertServiceConfig.from(new Env(env)), Clock.systemUTC());
    parts.add(alerts);

    adminKey = env.computeIfAbsent("METERING_BOOTSTRAP_ADMIN_KEY", k -> Secrets.generate());
    String org = env.getOrDefault("ADMIN_BOOTSTRAP_ORG_ID", "org-default");
    // <gateway_id>:<orgs>:<token>; the token may itself hold colons
    String[] firstGateway = env.computeIfAbsent("GATEWAY_TOKENS", k -> "local-gateway:" + org + ":local-gateway-token")
        .split(",")[0].strip().split(":", 3);
    gatewayOrgs = firstGateway[1];
    gatewayToken = firstGateway[2];
    if (!metering.awaitRunning(Duration.ofSeconds(90))) {
      throw new IllegalStateException("metering-stream did not start");
    }
    env.put("METERING_QUERY_URL", "http://localhost:" + metering.httpPort());
    admin = AdminApi.start(AdminConfig.from(new Env(env)), Clock.systemUTC());
    parts.add(admin);

    Env gatewayEnv = new Env(env);
    guard = KeyGuard.start(bootstrapServers, Clock.systemUTC());
    parts.add(guard);
    UsageReporter reporter = DemoGateway.reporter(gatewayEnv, bootstrapServers, "local-gateway");
    parts.add(reporter);
    gateway = DemoGateway.start(guard, reporter, gatewayEnv.string("GATEWAY_HTTP_BIND", "0.0.0.0"),
        gatewayEnv.intInRange("GATEWAY_HTTP_PORT", 8090, 0, 65_535));
    parts.add(gateway);
    guard.awaitReady(Duration.ofSeconds(60));

    if (withTraffic) {
      traffic = startTraffic();
      parts.add(traffic);
    }
  }

  /** Keys for the generator: two steady, one that spikes, one with a small hard limit and an alert. */
  private TrafficGenerator startTraffic() {
    AdminClient client = adminClient();
    String steady = client.apiKeys().create(CreateApiKey.named("traffic-steady")).key();
    String soft = client.apiKeys().create(CreateApiKey.named("traffic-soft-limit")
        .maxTokensPerMonth(5_000_000L)).key();
    String spiky = client.apiKeys().create(CreateApiKey.named("traffic-spiky")).key();
    var capped = client.apiKeys().create(CreateApiKey.named("traffic-capped")
        .maxTokensPerMonth(20_000L).hardLimit(true));
    client.alerts().create("capped at 80%", capped.id(), 80, "platform-team@example.com", null);
    return new TrafficGenerator(gatewayUrl(), List.of(
        new TrafficGenerator.Driven("steady", steady, 5, 1),
        new TrafficGenerator.Driven("soft", soft, 2, 1),
        new TrafficGenerator.Driven("spiky", spiky, 1, 10),
        new TrafficGenerator.Driven("capped", capped.key(), 3, 1)));
  }

  public AdminClient adminClient() {
    return AdminClient.create(adminUrl(), adminKey);
  }

  /** A client with a new admin key of another organisation: for trying one org's budget without touching the others. */
  public AdminClient adminClientOf(String orgId, String adminEmail) {
    return AdminClient.create(adminUrl(), admin.provisionAdminKey(orgId, adminEmail));
  }

  public String adminKey() {
    return adminKey;
  }

  public String gatewayToken() {
    return gatewayToken;
  }

  /** The organisations the first gateway token reports for. */
  public String gatewayOrgs() {
    return gatewayOrgs;
  }

  /** The Authorization header metering-stream's query API wants (it listens on loopback only). */
  public String queryAuthorization() {
    return metering.queryToken().authorization();
  }

  public String alertsUrl() {
    return "http://localhost:" + alerts.httpPort();
  }

  public String adminUrl() {
    return "http://localhost:" + admin.port();
  }

  public String gatewayUrl() {
    return "http://localhost:" + gateway.port();
  }

  public String meteringUrl() {
    return "http://localhost:" + metering.httpPort();
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The in-JVM broker, or null when KAFKA_BOOTSTRAP_SERVERS named a cluster. */
  public EmbeddedKafka broker() {
    return kafka;
  }

  /** The SMTP sink, or null when SMTP_HOST named a real server. */
  public GreenMail smtp() {
    return smtp;
  }

  public KeyGuard keyGuard() {
    return guard;
  }

  /** Usage events accepted by metering-stream so far (exact counters). */
  public long acceptedEvents() {
    try {
      return metering.localCounters().getOrDefault(IngestCounters.ACCEPTED, 0L);
    } catch (RuntimeException rebalancing) {
      return -1;
    }
  }

  public Map<Integer, Long> trafficAnswers() {
    return traffic == null ? Map.of() : traffic.answers();
  }

  @Override
  public void close() {
    for (int i = parts.size() - 1; i >= 0; i--) {
      try {
        parts.get(i).close();
      } catch (Exception e) {
        System.err.println("stopping " + parts.get(i).getClass().getSimpleName() + " failed: " + e.getMessage());
      }
    }
    parts.clear();
  }
}
