package dev.metering.admin.keys;

import dev.metering.admin.ChangeWriter;
import dev.metering.kafka.GroupIndex;
import dev.metering.admin.http.ApiError;
import dev.metering.kafka.TopicView;
import dev.metering.keys.SecretIndex;
import dev.metering.records.ApiKey;
import dev.metering.records.AuditRecord;
import dev.metering.records.KeyState;
import dev.metering.records.KeyStatus;
import dev.metering.schemas.Topics;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The api-keys table as admin-api sees it: a live view of the compacted topic, with this
 * instance's own writes applied at once (a read after a write returns the write), an index
 * from secret hash to key id for authentication, and one by organisation for its lists.
 */
public final class KeyStore implements AutoCloseable {

  private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(10);

  private final TopicView<String, ApiKey> view;
  private final TopicView<String, KeyStatus> statuses;
  private final ChangeWriter writer;
  private final SecretIndex secrets = new SecretIndex();
  private final GroupIndex<String, ApiKey> byOrg = new GroupIndex<>(ApiKey::getOrgId);

  public KeyStore(String bootstrapServers, ChangeWriter writer) {
    this.writer = writer;
    this.view = TopicView.start(bootstrapServers, Topics.API_KEYS.name(), Topics.API_KEYS.keySerde().deserializer(),
        Topics.API_KEYS.valueSerde().deserializer(), (id, key) -> {
          secrets.update(id, key);
          byOrg.accept(id, key);
        });
    this.statuses = TopicView.start(bootstrapServers, Topics.KEY_STATUS.name(),
        Topics.KEY_STATUS.keySerde().deserializer(), Topics.KEY_STATUS.valueSerde().deserializer(), null);
  }

  public void awaitLoaded(Duration timeout) throws InterruptedException {
    view.awaitCaughtUp(timeout);
    statuses.awaitCaughtUp(timeout);
  }

  public boolean loaded() {
    return view.isCaughtUp() && statuses.isCaughtUp();
  }

  /**
   * The key's suspension as alert-service last wrote it on key-status, if it is suspended at
   * {@code now} (a suspension past its {@code suspended_until} has ended, whether or not the
   * reinstatement was written yet).
   */
  public Optional<KeyStatus> suspension(String id, long now) {
    KeyStatus status = statuses.get(id);
    return status == null || status.getState() != KeyState.SUSPENDED
        || (status.getSuspendedUntil() != null && status.getSuspendedUntil() <= now)
        ? Optional.empty() : Optional.of(status);
  }

  public Optional<ApiKey> get(String id) {
    return Optional.ofNullable(view.get(id));
  }

  /**
   * The organisation's own suspension (its hard budget reached) as alert-service last wrote it on
   * key-status, keyed by org_id, if it holds at {@code now}.
   */
  public Optional<KeyStatus> orgSuspension(String orgId, long now) {
    return suspension(orgId, now).filter(status -> status.getApiKeyId() == null && status.getSuspendedUntil() != null);
  }

  /** The key {@code id} if it is one of {@code orgId}'s: another organisation's key is as absent as an unknown one. */
  public Optional<ApiKey> owned(String orgId, String id) {
    return get(id).filter(key -> key.getOrgId().equals(orgId));
  }

  /** The key whose current or previous secret has this hash (the caller checks which, and expiry). */
  public Optional<ApiKey> bySecretHash(String hash) {
    return secrets.idOf(hash).map(view::get);
  }

  /** The org's keys, newest first. */
  public List<ApiKey> ofOrg(String orgId) {
    return byOrg.get(orgId).stream()
        .sorted(Comparator.comparingLong(ApiKey::getCreatedAt).reversed().thenComparing(ApiKey::getId))
        .toList();
  }

  /**
   * Writes the key's new state with its audit records if the key still is {@code expected} (null:
   * a new key) in every instance's eyes, else answers 409; visible to reads here as soon as it returns.
   */
  public void put(ApiKey key, List<AuditRecord> audits, ApiKey expected) {
    writer.write(Topics.API_KEYS.name(), key.getId(),
        Topics.API_KEYS.encode(key), audits,
        ChangeWriter.row(view, key.getId(), expected, key));
  }

  /**
   * The key as every instance has written it so far: its partition read up to what is committed,
   * for a change that must be made again on the key as it now is.
   */
  public Optional<ApiKey> latest(String id) {
    try {
      view.sync(writer.partition(Topics.API_KEYS.name(), id), SYNC_TIMEOUT);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ApiError(503, "unavailable_error", "interrupted while reading the key; retry", null);
    } catch (IllegalStateException e) {
      throw new ApiError(503, "unavailable_error", "the key cannot be read from Kafka now (" + e.getMessage()
          + "); retry", null);
    }
    return get(id);
  }

  /**
   * Writes a new key with its audit records if {@code requireRoom} (which throws when its
   * organisation has no room for one more) passes against every key written before it by any
   * instance.
   */
  public void putNew(ApiKey key, List<AuditRecord> audits, Runnable requireRoom) {
    writer.writeInOrg(key.getOrgId(), Topics.API_KEYS.name(), key.getId(), Topics.API_KEYS.encode(key), audits,
        writer.counted(view, Topics.API_KEYS.name(), key.getId(), key, requireRoom));
  }

  /**
   * Whether the keys can be authenticated by: the view of api-keys is caught up, reading, and
   * confirmed current with Kafka within {@link TopicView#MAX_UNCONFIRMED}. An instance cut off from
   * Kafka would otherwise still let in an admin key that another instance revoked meanwhile.
   */
  public boolean current() {
    return view.current(TopicView.MAX_UNCONFIRMED);
  }

  /** Whether the view is still reading the table (a stopped one would serve a frozen copy). */
  public boolean healthy() {
    return view.healthy() && statuses.healthy();
  }


  @Override
  public void close() {
    statuses.close();
    view.close();
  }
}
