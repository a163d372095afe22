package dev.metering.admin;

import dev.metering.kafka.TopicView;
import dev.metering.records.AuditRecord;
import dev.metering.schemas.Topic;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * A compacted topic of the control plane as a table: a live view with this instance's own writes
 * applied at once, written only if a row is still as the writer read it (else 409).
 */
public class TopicTable<V> implements AutoCloseable {

  private final Topic<String, V> topic;
  private final Function<V, String> idOf;
  private final TopicView<String, V> view;
  private final ChangeWriter writer;

  public TopicTable(String bootstrapServers, ChangeWriter writer, Topic<String, V> topic, Function<V, String> idOf) {
    this.topic = topic;
    this.idOf = idOf;
    this.writer = writer;
    this.view = TopicView.start(bootstrapServers, topic.name(), topic.keySerde().deserializer(),
        topic.valueSerde().deserializer(), null);
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

  public Stream<V> values() {
    return view.values();
  }

  /** Writes the row with its audit records if it is {@code expected} (null: a new row), else answers 409. */
  public void put(V row, java.util.List<AuditRecord> audits, V expected) {
    String id = idOf.apply(row);
    writer.write(topic.name(), id, topic.encode(row), audits, ChangeWriter.row(view, id, expected, row));
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
