package dev.metering.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The rows of a table grouped by one of their fields (an organisation, a key), fed every change as
 * a {@link TopicView} listener: a lookup costs the rows of its group, not every row of every
 * group, so one tenant's list does not grow with the others' tables. A row whose group is null
 * is in none. Lookups may run on other threads than updates; a row updated in place is never
 * missing from its group meanwhile.
 */
public final class GroupIndex<K, V> implements BiConsumer<K, V> {

  private final Function<V, String> groupOf;
  private final Map<K, String> groupOfRow = new ConcurrentHashMap<>();
  private final Map<String, Map<K, V>> groups = new ConcurrentHashMap<>();

  public GroupIndex(Function<V, String> groupOf) {
    this.groupOf = Objects.requireNonNull(groupOf, "groupOf");
  }

  /** Applies a change: {@code row} is the latest value of {@code key}, or null once it was deleted. */
  @Override
  public synchronized void accept(K key, V row) {
    String now = row == null ? null : groupOf.apply(row);
    // filed (or replaced in place) before it leaves a group it no longer belongs to
    if (now != null) {
      groups.computeIfAbsent(now, g -> new ConcurrentHashMap<>()).put(key, row);
    }
    String was = now == null ? groupOfRow.remove(key) : groupOfRow.put(key, now);
    if (was != null && !was.equals(now)) {
      groups.computeIfPresent(was, (g, rows) -> {
        rows.remove(key);
        return rows.isEmpty() ? null : rows;
      });
    }
  }

  /** The rows of {@code group} now, in no particular order: a copy, the caller's to sort or change. */
  public List<V> get(String group) {
    Map<K, V> rows = groups.get(group);
    return rows == null ? new ArrayList<>() : new ArrayList<>(rows.values());
  }
}
