package dev.metering.admin;

import dev.metering.kafka.GroupIndex;
import dev.metering.kafka.TopicView;
import dev.metering.records.AuditRecord;
import dev.metering.schemas.Topic;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/**
 * A compacted topic of the control plane as a table: a live view with this instance's own writes
 * applied at once, written only if a row is still as the writer read it (else 409).
 */
public class TopicTable<V> implements AutoCloseable {

  private final Topic<String, V> topic;
  private final Function<V, String> idOf;
  private final TopicView<String, V> view;
  private final ChangeWriter writer;
  private final GroupIndex<String, V> groups;

  public TopicTable(String bootstrapServers, ChangeWriter writer, Topic<String, V> topic, Function<V, String> idOf) {
    this(bootstrapServers, writer, topic, idOf, null);
  }

  /** A table whose rows {@link #ofGroup} finds by {@code groupOf} (an organisation) without reading the others. */
  public TopicTable(String bootstrapServers, ChangeWriter writer, Topic<String, V> topic, Function<V, String> idOf,
      Function<V, String> groupOf) {
    this.topic = topic;
    this.idOf = idOf;
    this.writer = writer;
    this.groups = groupOf == null ? null : new GroupIndex<>(groupOf);
    this.view = TopicView.start(bootstrapServers, topic.name(), topic.keySerde().deserializer(),
        topic.valueSerde().deserializer(), groups);
  }

  public void awaitLoaded(Duration timeout) throws InterruptedException {
    view.awaitCaughtUp(timeout);
  }

  public boolean loaded() {
    return view.isCaughtUp();
  }

  /** Whether the view is still reading the topic (a stopped one would serve a frozen copy). */
  public boolean healthy() {
    return view.healthy();
  }

  public Optional<V> get(String id) {
    return Optional.ofNullable(view.get(id));
  }

  /** The rows of {@code group}, in no particular order; only for a table built with a group. */
  public java.util.List<V> ofGroup(String group) {
    if (groups == null) {
      throw new IllegalStateException(topic.name() + " is not grouped");
    }
    return groups.get(group);
  }

  /** Writes the row with its audit records if it is {@code expected} (null: a new row), else answers 409. */
  public void put(V row, java.util.List<AuditRecord> audits, V expected) {
    String id = idOf.apply(row);
    writer.write(topic.name(), id, topic.encode(row), audits, ChangeWriter.row(view, id, expected, row));
  }

  /**
   * Writes a new row of {@code orgId} with its audit records if {@code requireRoom} (which throws
   * when there is no room for one more) passes against every row written before it by any instance.
   */
  public void putNew(String orgId, V row, java.util.List<AuditRecord> audits, Runnable requireRoom) {
    String id = idOf.apply(row);
    writer.writeInOrg(orgId, topic.name(), id, topic.encode(row), audits,
        writer.counted(view, topic.name(), id, row, requireRoom));
  }

  /** Deletes with a tombstone, as a compacted topic's contract says, if the row is still {@code row}. */
  public void delete(V row, java.util.List<AuditRecord> audits) {
    String id = idOf.apply(row);
    writer.write(topic.name(), id, null, audits, ChangeWriter.row(view, id, row, null));
  }

  @Override
  public void close() {
    view.close();
  }
}
