package dev.metering.alerts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import com.sun.net.httpserver.HttpServer;
import dev.metering.alerts.delivery.Attempt;
import dev.metering.alerts.delivery.Channel;
import dev.metering.alerts.delivery.NotificationDispatcher;
import dev.metering.config.Env;
import dev.metering.kafka.KafkaBroker;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.records.AlertRule;
import dev.metering.records.AuditRecord;
import dev.metering.records.KeyState;
import dev.metering.records.KeyStatus;
import dev.metering.records.LimitEvent;
import dev.metering.records.LimitEventKind;
import dev.metering.records.Notification;
import dev.metering.records.NotificationChannel;
import dev.metering.records.UsageSpike;
import dev.metering.schemas.Topics;
import dev.metering.webhooks.WebhookSigning;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * alert-service against a real broker, a real SMTP server (GreenMail) and a real HTTP server on
 * loopback, with a clock the test moves across a month boundary. The tests run in order on one
 * service and one clock.
 */
class AlertServiceIT {

  private static final String SIGNING_KEY = "it-webhook-signing-key-0123456789abcdef";
  private static final Instant START = Instant.parse("2026-11-20T10:00:00Z");
  private static final MutableClock CLOCK = new MutableClock(START);

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(2);
  private static GreenMail smtp;
  private static HttpServer webhooks;
  private static ServerSocket blackHole;
  private static final List<Socket> swallowed = Collections.synchronizedList(new ArrayList<>());
  private static final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
  private static final List<String> verifiedDeliveries = Collections.synchronizedList(new ArrayList<>());
  private static AlertServiceConfig config;
  /** The /hold/ receiver: counts down when a request arrives, answers only on release, with holdStatus. */
  private static final CountDownLatch held = new CountDownLatch(1);
  private static final CountDownLatch release = new CountDownLatch(1);
  private static final AtomicInteger holdStatus = new AtomicInteger(503);
  private static AlertService service;

  @BeforeAll
  static void start() throws Exception {
    smtp = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    smtp.start();
    webhooks = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    // what the owner of rule-1 was shown when it created the rule
    String ruleSecret = new WebhookSigning(SIGNING_KEY).secretFor("rule-1", 0);
    webhooks.createContext("/hooks/", exchange -> {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      String id = exchange.getRequestHeaders().getFirst(WebhookSigning.ID_HEADER);
      boolean signed = WebhookSigning.verify(ruleSecret, id, exchange.getRequestHeaders().getFirst(
          WebhookSigning.TIMESTAMP_HEADER), exchange.getRequestHeaders().getFirst(WebhookSigning.SIGNATURE_HEADER), body,
          CLOCK.instant().getEpochSecond());
      int attempt = attempts.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
      int status = !signed ? 401 : attempt <= 2 ? 503 : 204;
      if (status == 204) {
        verifiedDeliveries.add(id);
      }
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
    });
    webhooks.createContext("/hold/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      held.countDown();
      try {
        release.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      exchange.sendResponseHeaders(holdStatus.get(), -1);
      exchange.close();
    });
    webhooks.start();
    blackHole = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    Thread acceptor = new Thread(() -> {
      while (!blackHole.isClosed()) {
        try {
          swallowed.add(blackHole.accept());
        } catch (IOException closed) {
          return;
        }
      }
    });
    acceptor.setDaemon(true);
    acceptor.start();
    config = AlertServiceConfig.from(new Env(env(Map.of())));
    produce(Topics.ALERT_RULES.name(), "rule-1", Topics.ALERT_RULES.valueSerde().serializer()
        .serialize("t", rule("rule-1", "key-1", "ops@example.com",
            "http://127.0.0.1:" + webhooks.getAddress().getPort() + "/hooks/T0001?token=do-not-log")));
    produce(Topics.ALERT_RULES.name(), "rule-4", Topics.ALERT_RULES.valueSerde().serializer()
        .serialize("t", rule("rule-4", "key-4", "team4@example.com",
            "http://127.0.0.1:" + blackHole.getLocalPort() + "/dead")));
    produce(Topics.ALERT_RULES.name(), "rule-7", Topics.ALERT_RULES.valueSerde().serializer()
        .serialize("t", rule("rule-7", "key-7", "team7@example.com", null)));
    produce(Topics.ALERT_RULES.name(), "rule-10", Topics.ALERT_RULES.valueSerde().serializer()
        .serialize("t", rule("rule-10", "key-10", "team10@example.com", null)));
    service = AlertService.start(config, CLOCK);
  }

  /**
   * Every test starts in November 2026 and uses keys, rules and addresses of its own, and
   * asserts only on those: any test runs alone and in any order.
   */
  @BeforeEach
  void startInNovember() {
    CLOCK.set(START);
  }

  @AfterAll
  static void stop() throws IOException {
    if (service != null) {
      service.close();
    }
    if (webhooks != null) {
      webhooks.stop(0);
    }
    if (blackHole != null) {
      blackHole.close();
    }
    for (Socket socket : swallowed) {
      socket.close();
    }
    if (smtp != null) {
      smtp.stop();
    }
  }

  @Test
  void shouldSuspendAHardLimitedKeyAndDeliverEveryAlertByEmailAndSignedWebhook() throws Exception {
    produceLimit(limit(LimitEventKind.THRESHOLD_CROSSED, "key-1", "rule-1", 800));
    produceLimit(limit(LimitEventKind.LIMIT_BREACHED, "key-1", null, 1000));

    KafkaTestSupport.await("three emails: threshold, breach, suspension", Duration.ofSeconds(30),
        () -> emailsTo("ops@example.com").size() == 3);
    KafkaTestSupport.await("three signed webhooks, each after two failed attempts", Duration.ofSeconds(30),
        () -> verifiedDeliveries.size() == 3);
    List<String> subjects = new ArrayList<>();
    for (MimeMessage message : emailsTo("ops@example.com")) {
      subjects.add(message.getSubject());
      assertEquals("ops@example.com", message.getAllRecipients()[0].toString());
      assertTrue(message.getHeader("X-Metering-Notification-Id")[0].startsWith("ntf_"));
    }
    assertTrue(subjects.contains("[metering] key-1 reached 80% of its monthly token limit"), subjects.toString());
    assertTrue(subjects.contains("[metering] key-1 reached its monthly token limit"), subjects.toString());
    assertTrue(subjects.contains("[metering] key-1 suspended until 2026-12-01T00:00:00Z"), subjects.toString());
    assertTrue(com.icegreen.greenmail.util.GreenMailUtil.getBody(emailsTo("ops@example.com").get(0)).contains("key-1"));
    verifiedDeliveries.forEach(id -> assertEquals(3, attempts.get(id).get(), "two 503s, then delivered: " + id));

    KeyStatus status = awaitStatus("key-1", KeyState.SUSPENDED);
    assertEquals(Instant.parse("2026-12-01T00:00:00Z").toEpochMilli(), status.getSuspendedUntil());
    List<AuditRecord> audit = awaitAudit("key-1", records -> count(records, "alert_delivered") == 6);
    assertEquals(1, count(audit, "threshold_crossed"));
    assertEquals(1, count(audit, "limit_breached"));
    assertEquals(1, count(audit, "key_suspended"));
    audit.stream().filter(a -> a.getEventType().equals("alert_delivered") && a.getDescription().startsWith("webhook"))
        .forEach(a -> {
          assertTrue(a.getDescription().contains("after 3 attempts"), a.getDescription());
          assertFalse(a.getDescription().contains("do-not-log"), "webhook URLs are redacted: " + a.getDescription());
        });
  }

  @Test
  void shouldReinstateWhenTheLimitIsRaised() throws Exception {
    produceLimit(limit(LimitEventKind.LIMIT_BREACHED, "key-5", null, 1000));
    awaitStatus("key-5", KeyState.SUSPENDED);

    produceLimit(limit(LimitEventKind.LIMIT_CLEARED, "key-5", null, 1000));

    KeyStatus status = awaitStatus("key-5", KeyState.ACTIVE);
    assertTrue(status.getReason().contains("raised"), status.getReason());
    awaitAudit("key-5", records -> count(records, "key_reinstated") == 1);
  }

  @Test
  void shouldNotLetADeadWebhookHoldBackEmail() throws Exception {
    produceLimit(limit(LimitEventKind.THRESHOLD_CROSSED, "key-4", "rule-4", 800));

    KafkaTestSupport.await("the email went out", Duration.ofSeconds(10), () -> emailsTo("team4@example.com").size() == 1);
    List<AuditRecord> audit = awaitAudit("key-4", records -> count(records, "alert_delivered") == 1);
    assertEquals(0, count(audit, "alert_delivery_failed"), "the dead webhook is still being tried");
    List<AuditRecord> failed = awaitAudit("key-4", records -> count(records, "alert_delivery_failed") == 1);
    AuditRecord gaveUp = failed.stream().filter(a -> a.getEventType().equals("alert_delivery_failed")).findFirst()
        .orElseThrow();
    assertTrue(gaveUp.getDescription().contains("after 4 attempts"), gaveUp.getDescription());
  }

  @Test
  void shouldAuditButNotSendAnAlertAboutAMonthThatClosedLongAgo() throws Exception {
    // a backfill of past months sent every one of their alerts at once (some 2,500 emails in the bench's)
    CLOCK.set(Instant.parse("2027-01-10T12:00:00Z"));
    produceLimit(limit(LimitEventKind.THRESHOLD_CROSSED, "key-10", "rule-10", 800)); // November 2026
    produceLimit(LimitEvent.newBuilder(limit(LimitEventKind.THRESHOLD_CROSSED, "key-10", "rule-10", 800))
        .setPeriod("2027-01").build());

    KafkaTestSupport.await("January's alert email", Duration.ofSeconds(30),
        () -> emailsTo("team10@example.com").size() == 1);
    List<AuditRecord> audit = awaitAudit("key-10", records -> count(records, "threshold_crossed") == 2);
    AuditRecord november = audit.stream().filter(r -> "2026-11".equals(r.getDetails().get("period"))).findFirst()
        .orElseThrow();
    AuditRecord january = audit.stream().filter(r -> "2027-01".equals(r.getDetails().get("period"))).findFirst()
        .orElseThrow();
    assertEquals("false", november.getDetails().get("notified"));
    assertTrue(november.getDescription().contains("Not sent"), november.getDescription());
    assertEquals(null, january.getDetails().get("notified"));
    assertTrue(emailsTo("team10@example.com").get(0).getSubject().contains("80%"));
    List<String> causes = KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(), Topics.NOTIFICATIONS.name(),
        new StringDeserializer(), Topics.NOTIFICATIONS.valueSerde().deserializer()).stream()
        .map(r -> r.value().getCause()).filter(cause -> cause.contains("key-10")).toList();
    assertEquals(List.of("threshold_crossed:key-10:2027-01:rule-10"), causes, "November's was never in the outbox");
    KafkaTestSupport.await("the withheld email in /metrics", Duration.ofSeconds(30),
        () -> httpBody(service, "/metrics").contains("alert_notifications_withheld_total{channel=\"email\"} 1.0"));
  }

  @Test
  void shouldReinstateOnTimeWhenTheMonthEnds() throws Exception {
    CLOCK.set(Instant.parse("2026-11-30T23:59:50Z"));
    produceLimit(limit(LimitEventKind.LIMIT_BREACHED, "key-2", null, 1000));
    awaitStatus("key-2", KeyState.SUSPENDED);

    CLOCK.set(Instant.parse("2026-12-01T00:00:01Z"));

    KeyStatus reinstated = awaitStatus("key-2", KeyState.ACTIVE);
    assertTrue(reinstated.getReason().contains("ended with the month"), reinstated.getReason());
    assertEquals(Instant.parse("2026-12-01T00:00:01Z").toEpochMilli(), reinstated.getUpdatedAt());
  }

  @Test
  void shouldStillReinstateOnTimeAfterTheWallClockSteppedBack() throws Exception {
    // the lapse check was scheduled on the wall clock: a clock stepped back put it off by the step
    CLOCK.set(Instant.parse("2027-06-10T12:00:00Z"));
    produceLimit(LimitEvent.newBuilder(limit(LimitEventKind.LIMIT_BREACHED, "key-9", null, 1000)).setPeriod("2027-06")
        .build());
    awaitStatus("key-9", KeyState.SUSPENDED); // the service has run with the clock in June 2027

    CLOCK.set(Instant.parse("2026-11-30T23:59:50Z"));
    produceLimit(limit(LimitEventKind.LIMIT_BREACHED, "key-8", null, 1000));
    awaitStatus("key-8", KeyState.SUSPENDED);
    CLOCK.set(Instant.parse("2026-12-01T00:00:01Z"));

    awaitStatus("key-8", KeyState.ACTIVE);
  }

  @Test
  void shouldReinstateAtStartUpAfterARestartThatSpannedTheMonthBoundary() throws Exception {
    CLOCK.set(Instant.parse("2026-12-31T23:00:00Z"));
    LimitEvent december = LimitEvent.newBuilder(limit(LimitEventKind.LIMIT_BREACHED, "key-3", null, 1000))
        .setPeriod("2026-12").build();
    produceLimit(december);
    awaitStatus("key-3", KeyState.SUSPENDED);
    service.close();

    CLOCK.set(Instant.parse("2027-01-01T08:00:00Z"));
    service = AlertService.start(config, CLOCK);

    KeyStatus reinstated = awaitStatus("key-3", KeyState.ACTIVE);
    assertEquals(Instant.parse("2027-01-01T08:00:00Z").toEpochMilli(), reinstated.getUpdatedAt());
    List<AuditRecord> audit = awaitAudit("key-3", records -> count(records, "key_reinstated") == 1);
    assertEquals(1, count(audit, "key_suspended"), "the restart processed nothing twice");
  }

  @Test
  void shouldLeaveADeliveryCutShortByAStopToTheNextInstanceInsteadOfCallingItFailed() throws Exception {
    Notification notification = Notification.newBuilder().setId("ntf-stop").setOrgId("org-1").setApiKeyId("key-stop")
        .setChannel(NotificationChannel.WEBHOOK)
        .setTarget("http://127.0.0.1:" + webhooks.getAddress().getPort() + "/hold/ntf-stop")
        .setSubject("s").setBody("{}").setCause("test:stop").setCreatedAt(0L).setSigningKey("rule-stop:0").build();
    produce(Topics.NOTIFICATIONS.name(), "org-1", Topics.NOTIFICATIONS.encode(notification));
    assertTrue(held.await(30, TimeUnit.SECONDS), "the first attempt reached the receiver");

    // the dispatcher stops while the attempt is under way; the attempt then asks to be retried
    Thread stopping = new Thread(service::close);
    stopping.start();
    try {
      KafkaTestSupport.await("the dispatcher to be stopping", Duration.ofSeconds(30), () -> !stopping.isAlive()
          || Arrays.stream(stopping.getStackTrace()).anyMatch(frame ->
              frame.getClassName().endsWith(".NotificationDispatcher") && frame.getMethodName().equals("close")));
    } finally {
      release.countDown();
      stopping.join(60_000);
      holdStatus.set(204);
      service = AlertService.start(config, CLOCK);
    }

    List<AuditRecord> audit = awaitAudit("key-stop", records -> count(records, "alert_delivered") == 1);
    assertEquals(0, count(audit, "alert_delivery_failed"), "a stop is not a failed delivery: " + audit);
    assertTrue(audit.get(0).getDescription().contains("after 1 attempt"), "the next instance delivered it afresh: "
        + audit.get(0).getDescription());
  }

  @Test
  void shouldReplaceADeadDispatcherAndKeepOneOrgsHangingWebhooksFromHoldingBackAnother() throws Exception {
    // issue 14: the dispatcher thread could die unnoticed, and 1,000 deliveries in flight were shared by every org
    List<String> delivered = Collections.synchronizedList(new ArrayList<>());
    List<CompletableFuture<Attempt>> hanging = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger calls = new AtomicInteger();
    Channel channel = notification -> {
      if (calls.incrementAndGet() == 1) {
        throw new IllegalStateException("a bug in a channel"); // thrown on the dispatcher's own thread
      }
      if (notification.getOrgId().equals("org-hang")) {
        CompletableFuture<Attempt> never = new CompletableFuture<>();
        hanging.add(never);
        return never;
      }
      delivered.add(notification.getId());
      return CompletableFuture.completedFuture(new Attempt.Delivered("ok"));
    };
    AlertServiceConfig fair = AlertServiceConfig.from(new Env(env(Map.of("ALERT_SERVICE_GROUP_ID", "fairness",
        "ALERT_SERVICE_INSTANCE_ID", "fairness-0", "ALERT_MAX_IN_FLIGHT_PER_ORG", "4"))));
    produceNotification("org-ok", "ntf_first", "ops@org-ok.example");
    for (int i = 0; i < 40; i++) {
      produceNotification("org-hang", "ntf_hang_" + i, "ops" + i % 8 + "@org-hang.example");
    }
    for (int i = 0; i < 10; i++) {
      produceNotification("org-ok", "ntf_ok_" + i, "ops@org-ok.example");
    }

    try (AlertService other = AlertService.start(fair, CLOCK, Map.of(NotificationChannel.EMAIL, channel,
        NotificationChannel.WEBHOOK, channel))) {
      try {
        KafkaTestSupport.await("org-ok's notifications despite org-hang's", Duration.ofSeconds(30),
            () -> delivered.containsAll(List.of("ntf_ok_0", "ntf_ok_9", "ntf_first")) && hanging.size() >= 4);
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + ": delivered " + delivered + ", hanging " + hanging.size()
            + ", restarts " + other.dispatcherRestarts(), e);
      }

      assertTrue(other.dispatcherRestarts() >= 1, "the dead dispatcher was replaced");
      assertEquals(4, hanging.size(), "org-hang has only its share under way (4, each of its 8 targets at most 1)");
      KafkaTestSupport.await("ready again", Duration.ofSeconds(10), () -> httpStatus(other, "/health/ready") == 200);
      hanging.forEach(f -> f.complete(new Attempt.Delivered("late")));
      KafkaTestSupport.await("org-hang's next deliveries start", Duration.ofSeconds(30), () -> hanging.size() >= 8);
      hanging.forEach(f -> f.complete(new Attempt.Delivered("late")));
    }
  }

  @Test
  void shouldCommitADeliveryOnlyOnceItsAuditRecordIsWritten() throws Exception {
    // an outcome's audit record used to be sent without waiting: lost if the write failed, offset committed regardless
    CompletableFuture<Attempt> held = new CompletableFuture<>();
    Attempt accepted = new Attempt.Delivered("accepted by the test's channel"); // the service's own says SMTP
    List<String> delivered = Collections.synchronizedList(new ArrayList<>());
    Channel channel = notification -> {
      delivered.add(notification.getId());
      return notification.getId().equals("ntf_audited") ? held
          : CompletableFuture.completedFuture(accepted);
    };
    AlertServiceConfig audited = AlertServiceConfig.from(new Env(env(Map.of("ALERT_SERVICE_GROUP_ID", "audit-outage",
        "ALERT_SERVICE_INSTANCE_ID", "audit-outage-0"))));
    String group = audited.groupId() + "-dispatcher";
    SimpleMeterRegistry metrics =
        new SimpleMeterRegistry();
    ConfigResource auditLog = new ConfigResource(
        ConfigResource.Type.TOPIC, Topics.AUDIT_LOG.name());
    // the shared service stays out of the way: its own dispatcher would deliver and audit the same notifications
    service.close();
    try (Admin admin = Admin.create(
        KafkaTestSupport.adminConfig(kafka.bootstrapServers()))) {
      // the broker now refuses audit records as large as ntf_audited's (its cause is 5,000 characters)
      setMaxMessageBytes(admin, auditLog, "4000");
      RecordMetadata before;
      RecordMetadata sent;
      try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
        before = producer.send(notificationRecord(email("org-audit", "ntf_before", "ops@audit.example", "test"))).get();
        sent = producer.send(notificationRecord(
            email("org-audit", "ntf_audited", "ops@audit.example", "test:" + "x".repeat(5_000)))).get();
      }
      TopicPartition partition =
          new TopicPartition(sent.topic(), sent.partition());
      assertEquals(before.offset() + 1, sent.offset(), "one producer, one key: adjacent");
      // the group starts at ntf_before and skips what earlier tests left in the topic: their audit records
      // would share batches with ntf_audited's, and the producer's split of a batch the broker refused can
      // leave it retrying the others for its whole delivery timeout (OUT_OF_ORDER_SEQUENCE_NUMBER)
      startGroupAt(admin, group, partition, before.offset());
      NotificationDispatcher dispatcher = new NotificationDispatcher(audited,
          Map.of(NotificationChannel.EMAIL, channel), CLOCK, metrics);
      new Thread(dispatcher, "audit-outage-dispatcher").start();
      try {
        KafkaTestSupport.await("everything before it committed", Duration.ofSeconds(30),
            () -> committed(admin, group, partition) == sent.offset());
        held.complete(accepted);
        KafkaTestSupport.await("two failed writes of the audit record", Duration.ofSeconds(30),
            () -> metrics.counter("alert.audit.write.failures").count() >= 2);

        assertEquals(sent.offset(), committed(admin, group, partition), "not past the unaudited delivery");
        assertTrue(auditedDeliveries("ntf_audited", accepted).isEmpty());
        // the outage lasts 10 minutes of the service's clock; two more failures, so the attempt that will
        // succeed is one made after the clock moved
        Instant writtenAt = CLOCK.instant().plus(Duration.ofMinutes(10));
        CLOCK.set(writtenAt);
        double failedBefore = metrics.counter("alert.audit.write.failures").count();
        KafkaTestSupport.await("two more failed writes", Duration.ofSeconds(30),
            () -> metrics.counter("alert.audit.write.failures").count() >= failedBefore + 2);
        setMaxMessageBytes(admin, auditLog, null);
        KafkaTestSupport.await("the audit record written", Duration.ofSeconds(30),
            () -> auditedDeliveries("ntf_audited", accepted).size() == 1);
        // admin-api reads an audit range by the records' places in audit-log, up to 5 minutes past its end: a
        // record stamped with its first attempt's time, written 10 minutes later, was missing from its range
        assertEquals(writtenAt.toEpochMilli(), auditedDeliveries("ntf_audited", accepted).get(0).getTimestamp(),
            "stamped when written, not when the first attempt failed");
        KafkaTestSupport.await("then the delivery committed", Duration.ofSeconds(30),
            () -> committed(admin, group, partition) == sent.offset() + 1);
        assertEquals(1, delivered.stream().filter("ntf_audited"::equals).count(), "sent once, not again meanwhile");
      } finally {
        dispatcher.close();
        setMaxMessageBytes(admin, auditLog, null);
      }
    } finally {
      service = AlertService.start(config, CLOCK);
    }
  }

  /** Commits the group's offsets: {@code offset} on {@code start}, the end of every other partition of its topic. */
  private static void startGroupAt(Admin admin, String group,
      TopicPartition start, long offset) throws Exception {
    int partitions = admin.describeTopics(List.of(start.topic())).allTopicNames().get().get(start.topic())
        .partitions().size();
    Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      ends.put(new TopicPartition(start.topic(), p),
          OffsetSpec.latest());
    }
    Map<TopicPartition, OffsetAndMetadata> offsets =
        new HashMap<>();
    admin.listOffsets(ends).all().get().forEach((partition, end) -> offsets.put(partition,
        new OffsetAndMetadata(partition.equals(start) ? offset : end.offset())));
    admin.alterConsumerGroupOffsets(group, offsets).all().get();
  }

  /** Sets the topic's max.message.bytes, or with null removes the override; returns once the broker applies it. */
  private static void setMaxMessageBytes(Admin admin,
      ConfigResource topic, String value) throws Exception {
    var op = new AlterConfigOp(
        new ConfigEntry("max.message.bytes", value),
        value == null ? AlterConfigOp.OpType.DELETE
            : AlterConfigOp.OpType.SET);
    admin.incrementalAlterConfigs(Map.of(topic, List.of(op))).all().get();
    KafkaTestSupport.await("max.message.bytes " + value, Duration.ofSeconds(10), () -> {
      try {
        var entry = admin.describeConfigs(List.of(topic)).all().get().get(topic).get("max.message.bytes");
        return value == null ? entry.source() != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG
            : value.equals(entry.value());
      } catch (Exception e) {
        return false;
      }
    });
  }

  private static long committed(Admin admin, String group,
      TopicPartition partition) {
    try {
      var offset = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().get(partition);
      return offset == null ? -1 : offset.offset();
    } catch (Exception e) {
      return -1;
    }
  }

  /** The alert_delivered records of a notification whose delivery ended with {@code outcome}. */
  private static List<AuditRecord> auditedDeliveries(String notificationId, Attempt outcome) {
    return KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(), Topics.AUDIT_LOG.name(), new StringDeserializer(),
            Topics.AUDIT_LOG.valueSerde().deserializer()).stream()
        .map(ConsumerRecord::value)
        .filter(r -> r.getEventType().equals("alert_delivered")
            && notificationId.equals(r.getDetails().get("notification_id"))
            && r.getDescription().endsWith(": " + outcome.detail()))
        .toList();
  }

  @Test
  void shouldExposeWhatItDidAndWhatItSkippedInMetrics() throws Exception {
    // issue 17: alert-service had no /metrics; unreadable records were only a log line
    produceLimit(limit(LimitEventKind.THRESHOLD_CROSSED, "key-7", "rule-7", 800));
    produceLimit(limit(LimitEventKind.LIMIT_BREACHED, "key-7", null, 1000));
    awaitStatus("key-7", KeyState.SUSPENDED);
    produceLimit(limit(LimitEventKind.LIMIT_CLEARED, "key-7", null, 1000));
    awaitStatus("key-7", KeyState.ACTIVE);
    KafkaTestSupport.await("key-7's emails", Duration.ofSeconds(30), () -> emailsTo("team7@example.com").size() >= 2);
    produce(Topics.LIMIT_EVENTS.name(), "key-garbage", new byte[] {1, 2, 3});
    // well-formed Avro whose period is no month: it stopped the processor, again after every restart
    produceLimit(LimitEvent.newBuilder(limit(LimitEventKind.LIMIT_BREACHED, "key-garbage", null, 1000))
        .setPeriod("2026-13").build());
    produce(Topics.SPIKE_EVENTS.name(), "key-garbage", Topics.SPIKE_EVENTS.encode(UsageSpike.newBuilder()
        .setOrgId("org-1").setApiKeyId("key-garbage").setDay("yesterday").setTokens(4000).setBaselineDay("x")
        .setBaselineTokens(1000).setRatio(4.0).setDetectedAt(CLOCK.millis()).build()));

    String[] scraped = {""};
    KafkaTestSupport.await("the skipped records in /metrics", Duration.ofSeconds(30), () -> {
      scraped[0] = httpBody(service, "/metrics");
      return scraped[0].contains("metering_records_unreadable_total{reader=\"alert-processor\",topic=\"limit-events\"} 2.0")
          && scraped[0].contains("metering_records_unreadable_total{reader=\"alert-processor\",topic=\"spike-events\"} 1.0")
          && scraped[0].contains("alert_events_processed_total{topic=\"limit-events\"}");
    });

    String metrics = scraped[0];
    assertTrue(metrics.contains("alert_deliveries_total{channel=\"email\",outcome=\"delivered\"}"), metrics);
    assertTrue(metrics.contains("alert_delivery_latency_seconds_bucket{channel=\"email\""), metrics);
    assertTrue(metrics.contains("alert_key_states_total{state=\"active\"}"), "key-7's reinstatement");
    assertTrue(metrics.contains("alert_service_ready 1.0"), metrics);
    assertTrue(metrics.contains("jvm_memory_used_bytes"), metrics);
  }

  @Test
  void shouldServeItsOperationsEndpointsAtTheirExactPathsOnlyAndRefuseTheRestInJson() throws Exception {
    // the JDK server's contexts match by prefix: /health/liveness and /metrics/x were answered 200,
    // unknown paths with an HTML page
    assertEquals(200, httpStatus(service, "/health/live"));
    for (String path : List.of("/health/liveness", "/metrics/x", "/", "/health")) {
      HttpResponse<String> response = get(service, path);
      assertEquals(404, response.statusCode(), path);
      assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""), path);
      assertTrue(response.body().contains("\"type\":\"not_found_error\"") && response.body().contains(path),
          response.body());
    }
    HttpResponse<String> post = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
        "http://127.0.0.1:" + service.httpPort() + "/metrics")).POST(HttpRequest.BodyPublishers.ofString("x")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(405, post.statusCode());
    assertEquals("GET", post.headers().firstValue("Allow").orElse(""));
  }

  private static String httpBody(AlertService service, String path) {
    HttpResponse<String> response = get(service, path);
    return response == null ? "" : response.body();
  }

  private static int httpStatus(AlertService service, String path) {
    HttpResponse<String> response = get(service, path);
    return response == null ? -1 : response.statusCode();
  }

  /** GET {@code path} of the service's health and metrics port; null while it cannot be reached. */
  private static HttpResponse<String> get(AlertService service, String path) {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
          "http://127.0.0.1:" + service.httpPort() + path)).build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      return null;
    }
  }

  private static void produceNotification(String org, String id, String target) {
    ProducerRecord<String, byte[]> record = notificationRecord(email(org, id, target, "test:" + id));
    produce(record.topic(), record.key(), record.value());
  }

  private static Notification email(String org, String id, String target, String cause) {
    return Notification.newBuilder().setId(id).setOrgId(org).setApiKeyId("key-x")
        .setChannel(NotificationChannel.EMAIL).setTarget(target).setSubject("s").setBody("b")
        .setCause(cause).setCreatedAt(0L).build();
  }

  /** Keyed by its org, so that one org's notifications share a partition, in the order produced. */
  private static ProducerRecord<String, byte[]> notificationRecord(Notification notification) {
    return new ProducerRecord<>(Topics.NOTIFICATIONS.name(), notification.getOrgId(),
        Topics.NOTIFICATIONS.encode(notification));
  }

  /** The service's settings, with {@code overrides}. */
  private static Map<String, String> env(Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>(Map.of(
        "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
        "SMTP_HOST", "127.0.0.1",
        "SMTP_PORT", Integer.toString(smtp.getSmtp().getPort()),
        "ALERT_EMAIL_FROM", "metering@example.com",
        "METERING_WEBHOOK_SIGNING_KEY", SIGNING_KEY,
        "ALERT_WEBHOOK_TIMEOUT", "2s",
        "ALERT_DELIVERY_INITIAL_BACKOFF", "50ms",
        "ALERT_DELIVERY_MAX_BACKOFF", "200ms",
        "ALERT_DELIVERY_MAX_ATTEMPTS", "4",
        "ALERT_LAPSE_CHECK_INTERVAL", "50ms"));
    // the test's webhook receivers listen on loopback, which production refuses
    env.put("METERING_WEBHOOK_ALLOW_HTTP", "true");
    env.put("METERING_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.1/32");
    env.put("ALERT_HTTP_BIND", "127.0.0.1");
    env.put("ALERT_HTTP_PORT", "0");
    env.putAll(overrides);
    return env;
  }

  private static KeyStatus awaitStatus(String key, KeyState state) throws InterruptedException {
    KeyStatus[] latest = new KeyStatus[1];
    KafkaTestSupport.await(key + " " + state, Duration.ofSeconds(30), () -> {
      List<ConsumerRecord<String, KeyStatus>> records = KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(),
          Topics.KEY_STATUS.name(), new StringDeserializer(), Topics.KEY_STATUS.valueSerde().deserializer());
      latest[0] = null;
      records.stream().filter(r -> r.key().equals(key)).forEach(r -> latest[0] = r.value());
      return latest[0] != null && latest[0].getState() == state;
    });
    return latest[0];
  }

  /** The audit records of {@code apiKeyId}, once {@code done} holds of them. */
  private static List<AuditRecord> awaitAudit(String apiKeyId, Predicate<List<AuditRecord>> done)
      throws InterruptedException {
    List<AuditRecord> audit = new ArrayList<>();
    KafkaTestSupport.await("audit records of " + apiKeyId, Duration.ofSeconds(30), () -> {
      audit.clear();
      KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(), Topics.AUDIT_LOG.name(), new StringDeserializer(),
          Topics.AUDIT_LOG.valueSerde().deserializer()).stream()
          .filter(r -> apiKeyId.equals(r.value().getApiKeyId()))
          .forEach(r -> audit.add(r.value()));
      return done.test(audit);
    });
    return audit;
  }

  /** The emails received for {@code address}. */
  private static List<MimeMessage> emailsTo(String address) {
    List<MimeMessage> to = new ArrayList<>();
    for (MimeMessage message : smtp.getReceivedMessages()) {
      try {
        if (address.equals(message.getAllRecipients()[0].toString())) {
          to.add(message);
        }
      } catch (jakarta.mail.MessagingException e) {
        throw new IllegalStateException(e);
      }
    }
    return to;
  }

  private static long count(List<AuditRecord> records, String type) {
    return records.stream().filter(r -> r.getEventType().equals(type)).count();
  }

  private static LimitEvent limit(LimitEventKind kind, String key, String ruleId, long used) {
    return LimitEvent.newBuilder()
        .setKind(kind).setOrgId("org-1").setApiKeyId(key).setPeriod("2026-11").setUsedTokens(used)
        .setLimitTokens(kind == LimitEventKind.LIMIT_CLEARED ? 5000 : 1000).setPercent(used / 10.0)
        .setRuleId(ruleId).setThresholdPercent(ruleId == null ? null : 80).setHardLimit(true)
        .setTriggeringEventId(null).setDetectedAt(CLOCK.millis()).build();
  }

  private static AlertRule rule(String id, String key, String email, String webhook) {
    return AlertRule.newBuilder().setId(id).setOrgId("org-1").setName(id).setApiKeyId(key).setThresholdPercent(80)
        .setNotificationEmail(email).setWebhookUrl(webhook).setCreatedBy("admin@example.com").setCreatedAt(0L).build();
  }

  private static void produceLimit(LimitEvent event) {
    produce(Topics.LIMIT_EVENTS.name(), event.getApiKeyId(),
        Topics.LIMIT_EVENTS.encode(event));
  }

  private static void produce(String topic, String key, byte[] value) {
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
      producer.send(new ProducerRecord<>(topic, key, value));
    }
  }
}
