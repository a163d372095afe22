package dev.metering.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.kafka.EmbeddedKafka;
import dev.metering.kafka.KafkaBroker;
import dev.metering.kafka.KafkaTestSupport;
import dev.metering.kafka.KeyPartitions;
import dev.metering.keys.Secrets;
import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.KeyState;
import dev.metering.records.KeyStatus;
import dev.metering.records.UsageEvent;
import dev.metering.schemas.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** KeyGuard and UsageReporter against a real broker. */
class GatewayClientIT {

  @RegisterExtension
  static final KafkaBroker kafka = new KafkaBroker(2);



  @Test
  void shouldDecideEveryCaseLocallyFromTheCompactedTopics() throws Exception {
    long now = System.currentTimeMillis();
    String ok = Secrets.generate();
    String revoked = Secrets.generate();
    String suspended = Secrets.generate();
    String lapsed = Secrets.generate();
    String readOnly = Secrets.generate();
    String rotatedNew = Secrets.generate();
    String rotatedOld = Secrets.generate();
    String graceOld = Secrets.generate();
    String graceNew = Secrets.generate();
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
      put(producer, key("k-ok", ok, ApiKeyStatus.ACTIVE, "messages:write"));
      put(producer, key("k-revoked", revoked, ApiKeyStatus.REVOKED, "messages:write"));
      put(producer, key("k-suspended", suspended, ApiKeyStatus.ACTIVE, "messages:write"));
      put(producer, key("k-lapsed", lapsed, ApiKeyStatus.ACTIVE, "messages:write"));
      put(producer, key("k-read", readOnly, ApiKeyStatus.ACTIVE, "messages:read"));
      ApiKey rotated = key("k-rotated", rotatedNew, ApiKeyStatus.ACTIVE, "messages:write");
      rotated.setPreviousSecretHash(Secrets.hash(rotatedOld));
      rotated.setPreviousSecretExpiresAt(now - 1);
      put(producer, rotated);
      ApiKey grace = key("k-grace", graceNew, ApiKeyStatus.ACTIVE, "messages:write");
      grace.setPreviousSecretHash(Secrets.hash(graceOld));
      grace.setPreviousSecretExpiresAt(now + 3_600_000);
      put(producer, grace);
      status(producer, "k-suspended", now + 3_600_000);
      status(producer, "k-lapsed", now - 1);
    }

    try (KeyGuard guard = KeyGuard.start(kafka.bootstrapServers(), Clock.systemUTC())) {
      guard.awaitReady(Duration.ofSeconds(30));

      assertTrue(guard.authorize(ok, "messages:write").allowed());
      assertEquals(Decision.Reason.UNKNOWN_KEY, reason(guard.authorize(Secrets.generate(), "messages:write")));
      assertEquals(Decision.Reason.UNKNOWN_KEY, reason(guard.authorize(null, "messages:write")));
      assertEquals(Decision.Reason.REVOKED, reason(guard.authorize(revoked, "messages:write")));
      Decision.Denied denied = (Decision.Denied) guard.authorize(suspended, "messages:write");
      assertEquals(Decision.Reason.SUSPENDED, denied.reason());
      assertEquals(Instant.ofEpochMilli(now + 3_600_000), denied.suspendedUntil());
      assertTrue(denied.message().contains("monthly limit"), denied.message());
      assertTrue(guard.authorize(lapsed, "messages:write").allowed(), "a suspension whose month ended no longer applies");
      assertEquals(Decision.Reason.FORBIDDEN, reason(guard.authorize(readOnly, "messages:write")));
      assertTrue(guard.authorize(readOnly, "messages:read").allowed());
      assertEquals(Decision.Reason.EXPIRED, reason(guard.authorize(rotatedOld, "messages:write")));
      assertTrue(guard.authorize(rotatedNew, "messages:write").allowed());
      assertTrue(guard.authorize(graceOld, "messages:write").allowed(), "the old secret during its grace period");
      assertTrue(guard.authorize(graceNew, "messages:write").allowed());

      try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
        put(producer, key("k-ok", ok, ApiKeyStatus.REVOKED, "messages:write"));
      }
      KafkaTestSupport.await("the revocation to reach the guard", Duration.ofSeconds(30),
          () -> reason(guard.authorize(ok, "messages:write")) == Decision.Reason.REVOKED);
    }
  }

  @Test
  void shouldKeepARevokedKeyRevokedWhateverACopyInAnotherPartitionSays() throws Exception {
    // a key's records are ordered by offset in its own partition only: an active copy a restore
    // wrote to another partition, at a higher offset there, won over the key's revocation
    String secret = Secrets.generate();
    String strayOnly = Secrets.generate();
    int own = KeyPartitions.of("k-stray", 2);
    int other = 1 - own;
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Metrics.addRegistry(registry);
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
      for (int i = 0; i < 20; i++) {
        producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), other, "k-stray",
            Topics.API_KEYS.encode(key("k-stray", secret, ApiKeyStatus.ACTIVE, "messages:write"))));
      }
      producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), own, "k-stray",
          Topics.API_KEYS.encode(key("k-stray", secret, ApiKeyStatus.REVOKED, "messages:write"))));
      String strayOnlyId = "k-stray-only";
      producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), 1 - KeyPartitions.of(strayOnlyId, 2), strayOnlyId,
          Topics.API_KEYS.encode(key(strayOnlyId, strayOnly, ApiKeyStatus.ACTIVE, "messages:write"))));
    }

    try {
      try (KeyGuard guard = KeyGuard.start(kafka.bootstrapServers(), Clock.systemUTC())) {
        guard.awaitReady(Duration.ofSeconds(30));

        assertEquals(Decision.Reason.REVOKED, reason(guard.authorize(secret, "messages:write")));
        assertEquals(Decision.Reason.UNKNOWN_KEY, reason(guard.authorize(strayOnly, "messages:write")),
            "a key only in another partition is not where its changes are written");
      }
      Counter misplaced = registry.find("metering.records.misplaced").tags("topic", Topics.API_KEYS.name()).counter();
      assertEquals(21, misplaced.count(), "each stray record counted");

      // the remedy, a tombstone where the stray copies are, used to delete the key's own record too
      try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
        producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), other, "k-stray", null));
      }
      try (KeyGuard guard = KeyGuard.start(kafka.bootstrapServers(), Clock.systemUTC())) {
        guard.awaitReady(Duration.ofSeconds(30)); // caught up with the tombstone

        assertEquals(Decision.Reason.REVOKED, reason(guard.authorize(secret, "messages:write")));
      }
      assertEquals(42, misplaced.count(), "the second view counted the same 21, the tombstone not");
    } finally {
      Metrics.removeRegistry(registry);
    }
  }

  @Test
  void shouldRefuseEveryKeyOfASuspendedOrganisationButItsAdminKeysWithItsOwnReason() throws Exception {
    long now = System.currentTimeMillis();
    String member = Secrets.generate();
    String admin = Secrets.generate();
    String elsewhere = Secrets.generate();
    try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(kafka.bootstrapServers())) {
      put(producer, ApiKey.newBuilder(key("k-member", member, ApiKeyStatus.ACTIVE, "messages:write"))
          .setOrgId("org-budget").build());
      put(producer, ApiKey.newBuilder(key("k-admin", admin, ApiKeyStatus.ACTIVE, "admin"))
          .setOrgId("org-budget").build());
      put(producer, ApiKey.newBuilder(key("k-elsewhere", elsewhere, ApiKeyStatus.ACTIVE, "messages:write"))
          .setOrgId("org-other").build());
      KeyStatus org = KeyStatus.newBuilder().setApiKeyId(null).setOrgId("org-budget").setState(KeyState.SUSPENDED)
          .setReason("the organisation's monthly cost budget of $10 reached in 2026-11")
          .setSuspendedUntil(now + 3_600_000).setUpdatedAt(0L).build();
      producer.send(new ProducerRecord<>(Topics.KEY_STATUS.name(), "org-budget", Topics.KEY_STATUS.encode(org)));
    }

    try (KeyGuard guard = KeyGuard.start(kafka.bootstrapServers(), Clock.systemUTC())) {
      guard.awaitReady(Duration.ofSeconds(30));

      Decision.Denied denied = (Decision.Denied) guard.authorize(member, "messages:write");
      assertEquals(Decision.Reason.ORG_SUSPENDED, denied.reason());
      assertEquals(Instant.ofEpochMilli(now + 3_600_000), denied.suspendedUntil());
      assertTrue(denied.message().contains("organisation is suspended") && denied.message().contains("$10"),
          denied.message());
      assertTrue(guard.authorize(admin, "admin").allowed(), "an admin key keeps working so the admin can act");
      assertTrue(guard.authorize(elsewhere, "messages:write").allowed(), "another organisation's key");
      assertEquals(0, guard.suspendedCount(), "no key is suspended by its own limit");
    }
  }

  @Test
  void shouldFailClosedUntilItsViewsHaveCaughtUpAndOnceOneStops() throws Exception {
    // issue 14: authorize answered before its views had caught up, and a dead view served a frozen copy
    try (KeyGuard unreachable = KeyGuard.start("127.0.0.1:1", Clock.systemUTC())) {
      assertEquals(Decision.Reason.UNAVAILABLE, reason(unreachable.authorize(Secrets.generate(), "messages:write")));
    }
    KeyGuard guard = KeyGuard.start(kafka.bootstrapServers(), Clock.systemUTC());
    guard.awaitReady(Duration.ofSeconds(30));
    assertEquals(Decision.Reason.UNKNOWN_KEY, reason(guard.authorize(Secrets.generate(), "messages:write")));

    guard.close();

    assertEquals(Decision.Reason.UNAVAILABLE, reason(guard.authorize(Secrets.generate(), "messages:write")));
  }

  @Test
  void shouldFailClosedOnceItCanNoLongerConfirmItsViewsAreCurrent() throws Exception {
    // a consumer cut off from its brokers polls nothing and throws nothing: a gateway that lost
    // Kafka kept judging keys by its last copy for as long as the cut lasted, so a revocation or a
    // suspension written meanwhile (by an admin-api and alert-service that still reach Kafka) never applied
    String secret = Secrets.generate();
    EmbeddedKafka lost = KafkaTestSupport.brokerWithTopics(1, java.util.Map.of());
    try (KeyGuard guard = KeyGuard.start(lost.bootstrapServers(), Clock.systemUTC(), Duration.ofSeconds(3))) {
      try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(lost.bootstrapServers())) {
        put(producer, key("k-cut-off", secret, ApiKeyStatus.ACTIVE, "messages:write"));
      }
      guard.awaitReady(Duration.ofSeconds(30));
      KafkaTestSupport.await("the key to be known", Duration.ofSeconds(10),
          () -> guard.authorize(secret, "messages:write").allowed());
      KafkaTestSupport.holdsThroughout("calls allowed while Kafka is reachable, longer than the 3 s bound",
          Duration.ofSeconds(5), () -> guard.authorize(secret, "messages:write").allowed());

      long cut = System.nanoTime();
      lost.close();

      KafkaTestSupport.await("calls refused once the views could not be confirmed for 3 s", Duration.ofSeconds(20),
          () -> reason(guard.authorize(secret, "messages:write")) == Decision.Reason.UNAVAILABLE);
      assertTrue(System.nanoTime() - cut >= Duration.ofSeconds(1).toNanos(),
          "refused for staleness, not the moment the broker went");
    }
  }

  @Test
  void shouldAdmitAgainAndDeliverWhatItQueuedOnceTheBrokerReturnsAfterMinutes() throws Exception {
    // a broker restart or a cut of over 2 minutes lost the usage of calls admitted just before it:
    // the reporter gave an event up after 2 minutes, and nothing served by the gateway counted
    String secret = Secrets.generate();
    // stopped without a controlled shutdown, as a crash or a cut looks to clients. The reporter keeps
    // the metadata it had, so the call made during the outage is queued: by default a producer that
    // can reach none of its brokers goes back to its bootstrap servers ("rebootstrap") and forgets
    // every topic, after which a call is refused (which loses nothing), and whether it has done so
    // when the call is made is a race the test lost on a CI machine. With more than one broker, a
    // reporter keeps its metadata while one is down, as here.
    EmbeddedKafka restarted = KafkaTestSupport.brokerWithTopics(1, java.util.Map.of("controlled.shutdown.enable", "false"));
    Properties keepsMetadata = UsageReporter.producerSettings(restarted.bootstrapServers(),
        UsageReporter.FAIL_FAST_AFTER, UsageReporter.BUFFER_BYTES);
    keepsMetadata.put(CommonClientConfigs.METADATA_RECOVERY_STRATEGY_CONFIG, "none");
    try (KeyGuard guard = KeyGuard.start(restarted.bootstrapServers(), Clock.systemUTC(), Duration.ofSeconds(3));
        UsageReporter reporter = new UsageReporter(keepsMetadata, "gw-restart", Clock.systemUTC(), null)) {
      try (KafkaProducer<String, byte[]> producer = KafkaTestSupport.producer(restarted.bootstrapServers())) {
        put(producer, key("k-restart", secret, ApiKeyStatus.ACTIVE, "messages:write"));
      }
      guard.awaitReady(Duration.ofSeconds(30));
      KafkaTestSupport.await("the key to be known", Duration.ofSeconds(10),
          () -> guard.authorize(secret, "messages:write").allowed());
      UsageReporter.Call call = new UsageReporter.Call("org-1", "k-restart", "m", 1, 1, 0, 0, null);
      KafkaTestSupport.await("the reporter to know usage-events' partitions", Duration.ofSeconds(30), () -> {
        try {
          reporter.record(call);
          return true;
        } catch (UsageReportingException notYet) {
          return false;
        }
      });
      reporter.flush();
      long failedBefore = reporter.failed();

      restarted.stopBroker();
      String during = reporter.record(call);
      KafkaTestSupport.await("calls refused while the broker is down", Duration.ofSeconds(20),
          () -> reason(guard.authorize(secret, "messages:write")) == Decision.Reason.UNAVAILABLE);
      KafkaTestSupport.holdsThroughout("calls refused for as long as the broker is down", Duration.ofSeconds(125),
          () -> reason(guard.authorize(secret, "messages:write")) == Decision.Reason.UNAVAILABLE);
      restarted.startBroker();

      KafkaTestSupport.await("calls allowed again once the broker is back", Duration.ofSeconds(30),
          () -> guard.authorize(secret, "messages:write").allowed());
      reporter.flush();
      List<String> ids = KafkaTestSupport.readAllCommitted(restarted.bootstrapServers(), Topics.USAGE_EVENTS.name(),
          new StringDeserializer(), Topics.USAGE_EVENTS.valueSerde().deserializer())
          .stream().map(r -> r.value().getEventId()).toList();
      assertEquals(2, ids.size(), "the call before the outage and the one during it, once each: " + ids);
      assertEquals(during, ids.get(1));
      assertEquals(failedBefore, reporter.failed(), "nothing given up");
    } finally {
      restarted.close();
    }
  }

  @Test
  void shouldReportCallsAsUsageEventsWithTimeOrderedIds() {
    List<String> ids;
    try (UsageReporter reporter = UsageReporter.create(kafka.bootstrapServers(), "gw-test")) {
      ids = List.of(
          reporter.record(new UsageReporter.Call("org-1", "key-r", "claude-sonnet-4-5", 100, 20, 0, 5, "req-1")),
          reporter.record(new UsageReporter.Call("org-1", "key-r", "claude-sonnet-4-5", 200, 40, 0, 0, null)));
    }

    List<ConsumerRecord<String, UsageEvent>> events = KafkaTestSupport.readAllCommitted(kafka.bootstrapServers(),
        Topics.USAGE_EVENTS.name(), new StringDeserializer(), Topics.USAGE_EVENTS.valueSerde().deserializer())
        .stream().filter(r -> r.key().equals("key-r")).toList();
    assertEquals(ids, events.stream().map(r -> r.value().getEventId()).toList(), "close() flushed both, in order");
    assertEquals("req-1", events.get(0).value().getRequestId());
    assertEquals("gw-test", events.get(0).value().getGatewayId());
    assertTrue(ids.get(0).compareTo(ids.get(1)) < 0 || ids.get(0).substring(0, 13).equals(ids.get(1).substring(0, 13)),
        "ids sort by time");
  }

  @Test
  void shouldFailFastWhenTheBrokersCannotBeReached() {
    try (UsageReporter reporter = new UsageReporter("127.0.0.1:1", "gw-test", Duration.ofMillis(500),
        1024 * 1024, Clock.systemUTC())) {
      long started = System.nanoTime();

      UsageReportingException e = assertThrows(UsageReportingException.class,
          () -> reporter.record(new UsageReporter.Call("org-1", "key-x", "m", 1, 1, 0, 0, null)));

      long tookMillis = (System.nanoTime() - started) / 1_000_000;
      assertTrue(tookMillis < 5_000, "failed within the configured time, took " + tookMillis + " ms");
      assertTrue(e.getMessage().contains("key-x"), e.getMessage());
      assertEquals(1, reporter.failed());
    }
  }

  private static Decision.Reason reason(Decision decision) {
    return decision instanceof Decision.Denied denied ? denied.reason() : null;
  }

  private static ApiKey key(String id, String secret, ApiKeyStatus status, String permission) {
    return ApiKey.newBuilder().setId(id).setOrgId("org-1").setName(id).setKeyPrefix(Secrets.displayPrefix(secret))
        .setSecretHash(Secrets.hash(secret)).setPermissions(List.of(permission)).setMaxTokensPerMonth(1000L)
        .setHardLimit(true).setStatus(status).setCreatedAt(0L).setCreatedBy("admin@example.com").setUpdatedAt(0L)
        .build();
  }

  private static void put(KafkaProducer<String, byte[]> producer, ApiKey key) {
    producer.send(new ProducerRecord<>(Topics.API_KEYS.name(), key.getId(),
        Topics.API_KEYS.encode(key)));
  }

  private static void status(KafkaProducer<String, byte[]> producer, String keyId, long until) {
    KeyStatus status = KeyStatus.newBuilder().setApiKeyId(keyId).setOrgId("org-1").setState(KeyState.SUSPENDED)
        .setReason("monthly limit of 1000 tokens reached").setSuspendedUntil(until).setUpdatedAt(0L).build();
    producer.send(new ProducerRecord<>(Topics.KEY_STATUS.name(), keyId,
        Topics.KEY_STATUS.encode(status)));
  }
}
