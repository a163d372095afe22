package dev.metering.admin.keys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.admin.Audits;
import dev.metering.admin.auth.Principal;
import dev.metering.admin.http.ApiError;
import dev.metering.keys.Secrets;
import dev.metering.records.ApiKey;
import dev.metering.records.ApiKeyStatus;
import dev.metering.records.AuditRecord;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rules of key changes, without HTTP or Kafka. */
class KeyChangesTest {

  private static final long NOW = Instant.parse("2026-11-29T12:00:00Z").toEpochMilli();
  private static final Audits AUDITS = new Audits(Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC));
  private static final Principal ALICE = new Principal("org-a", "alice@a.example", "key_alice");
  private static final String SECRET = Secrets.generate();

  @Test
  void shouldAuditEachKindOfChangeOnceAndMoveTheVersionForward() {
    ApiKey key = key("ci", List.of("messages:read"), NOW + 5);

    KeyChanges.Change change = KeyChanges.update(key, new KeyChanges.Update("ci-2", List.of("messages:write"), true,
        "nightly", true, 5_000L, false, null, true), ALICE, AUDITS, NOW);

    assertEquals(List.of("permission_changed", "limit_changed", "key_updated"), types(change));
    assertEquals("ci-2", change.next().getName());
    assertEquals(5_000L, change.next().getMaxTokensPerMonth());
    assertTrue(change.next().getHardLimit());
    assertEquals(NOW + 6, change.next().getUpdatedAt(), "later than the version read, even if the clock is behind it");
    assertTrue(change.audits().stream().allMatch(a -> a.getActor().equals("alice@a.example")
        && a.getDetails().get("actor_key_id").equals("key_alice")));
  }

  @Test
  void shouldAuditACostLimitInDollarsNextToTheTokenLimit() {
    ApiKey key = key("ci", List.of("messages:read"), NOW);

    KeyChanges.Change change = KeyChanges.update(key, new KeyChanges.Update(null, null, false, null, true, 5_000L,
        true, 12_500_000L, true), ALICE, AUDITS, NOW);

    assertEquals(12_500_000L, change.next().getMaxCostMicrosPerMonth());
    assertEquals(List.of("limit_changed"), types(change));
    var audit = change.audits().get(0);
    assertTrue(audit.getDescription().endsWith("to 5000 tokens/month or $12.50/month (hard)"), audit.getDescription());
    assertEquals("null", audit.getDetails().get("cost_from"));
    assertEquals("12.50", audit.getDetails().get("cost_to"));

    KeyChanges.Change removed = KeyChanges.update(change.next(), new KeyChanges.Update(null, null, false, null, false,
        null, true, null, null), ALICE, AUDITS, NOW);
    assertNull(removed.next().getMaxCostMicrosPerMonth());
    assertEquals(5_000L, removed.next().getMaxTokensPerMonth(), "the token limit stays");
  }

  @Test
  void shouldChangeNothingWhenNothingDiffers() {
    ApiKey key = key("ci", List.of("messages:read"), NOW);

    KeyChanges.Change same = KeyChanges.update(key, new KeyChanges.Update("ci", List.of("messages:read"), false, null,
        false, null, false, null, null), ALICE, AUDITS, NOW);

    assertTrue(same.changesNothing());
    assertEquals(key, same.next());
  }

  @Test
  void shouldKeepAnAdminsIdentityFixed() {
    ApiKey admin = key("carol@a.example", List.of("admin"), NOW);
    ApiKey bot = key("ops-bot", List.of("messages:read"), NOW);

    ApiError renamed = assertThrows(ApiError.class, () -> KeyChanges.update(admin, new KeyChanges.Update(
        "mallory@a.example", null, false, null, false, null, false, null, null), ALICE, AUDITS, NOW));
    ApiError promoted = assertThrows(ApiError.class, () -> KeyChanges.update(bot, new KeyChanges.Update(null,
        List.of("admin"), false, null, false, null, false, null, null), ALICE, AUDITS, NOW));
    KeyChanges.Change redescribed = KeyChanges.update(admin, new KeyChanges.Update("carol@a.example", null, true,
        "on call", false, null, false, null, null), ALICE, AUDITS, NOW);

    assertEquals("name", renamed.field());
    assertEquals("permissions", promoted.field());
    assertEquals(List.of("key_updated"), types(redescribed));
  }

  @Test
  void shouldRefuseToChangeARevokedKeyAndAnAdminKeyRevokingItself() {
    ApiKey revoked = ApiKey.newBuilder(key("old", List.of("messages:read"), NOW)).setStatus(ApiKeyStatus.REVOKED).build();
    ApiKey alices = ApiKey.newBuilder(key("alice@a.example", List.of("admin"), NOW)).setId("key_alice").build();

    assertEquals(409, assertThrows(ApiError.class, () -> KeyChanges.revoke(revoked, ALICE, AUDITS, NOW)).status());
    assertEquals(409, assertThrows(ApiError.class, () -> KeyChanges.rotate(revoked, Secrets.generate(), 0, ALICE,
        AUDITS, NOW)).status());
    assertEquals(409, assertThrows(ApiError.class, () -> KeyChanges.update(revoked, new KeyChanges.Update("x", null,
        false, null, false, null, false, null, null), ALICE, AUDITS, NOW)).status());
    assertEquals(409, assertThrows(ApiError.class, () -> KeyChanges.revoke(alices, ALICE, AUDITS, NOW)).status());
    assertEquals(ApiKeyStatus.REVOKED, KeyChanges.revoke(key("ci", List.of(), NOW), ALICE, AUDITS, NOW).next().getStatus());
  }

  @Test
  void shouldRotateKeepingTheOldSecretOnlyForTheGracePeriodAsked() {
    ApiKey key = key("ci", List.of("messages:read"), NOW);
    String newSecret = Secrets.generate();

    KeyChanges.Change withGrace = KeyChanges.rotate(key, newSecret, 3_600, ALICE, AUDITS, NOW);
    KeyChanges.Change without = KeyChanges.rotate(key, newSecret, 0, ALICE, AUDITS, NOW);

    assertEquals(Secrets.hash(newSecret), withGrace.next().getSecretHash());
    assertEquals(key.getSecretHash(), withGrace.next().getPreviousSecretHash());
    assertEquals(NOW + 3_600_000, withGrace.next().getPreviousSecretExpiresAt());
    assertNull(without.next().getPreviousSecretHash(), "the old secret stops at once");
    assertEquals(key.getId(), withGrace.next().getId(), "rotation keeps the key id, so its usage and limit");
    assertEquals("grace_period_seconds", assertThrows(ApiError.class, () -> KeyChanges.rotate(key, newSecret,
        KeyChanges.MAX_GRACE_SECONDS + 1, ALICE, AUDITS, NOW)).field());
  }

  private static List<String> types(KeyChanges.Change change) {
    return change.audits().stream().map(AuditRecord::getEventType).toList();
  }

  private static ApiKey key(String name, List<String> permissions, long updatedAt) {
    return ApiKey.newBuilder().setId("key_" + name.hashCode()).setOrgId("org-a").setName(name).setDescription(null)
        .setKeyPrefix(Secrets.displayPrefix(SECRET)).setSecretHash(Secrets.hash(SECRET))
        .setPermissions(new java.util.ArrayList<>(permissions)).setMaxTokensPerMonth(null).setHardLimit(false)
        .setStatus(ApiKeyStatus.ACTIVE).setCreatedAt(NOW - 1000).setCreatedBy("alice@a.example").setUpdatedAt(updatedAt)
        .build();
  }
}
