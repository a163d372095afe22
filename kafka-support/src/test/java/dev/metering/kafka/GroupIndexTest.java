package dev.metering.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class GroupIndexTest {

  private record Row(String id, String org) {
  }

  @Test
  void shouldFindEachGroupsRowsAndFollowMovesAndDeletions() {
    GroupIndex<String, Row> index = new GroupIndex<>(Row::org);
    index.accept("a", new Row("a", "org-1"));
    index.accept("b", new Row("b", "org-1"));
    index.accept("c", new Row("c", "org-2"));

    assertEquals(List.of("a", "b"), ids(index.get("org-1")));
    assertEquals(List.of("c"), ids(index.get("org-2")));
    assertTrue(index.get("org-unknown").isEmpty());

    // moved to another group: found only there
    index.accept("b", new Row("b", "org-2"));
    assertEquals(List.of("a"), ids(index.get("org-1")));
    assertEquals(List.of("b", "c"), ids(index.get("org-2")));

    // a row whose group is null is in none; a tombstone removes it; one for an unknown row changes nothing
    index.accept("a", new Row("a", null));
    assertTrue(index.get("org-1").isEmpty());
    index.accept("c", null);
    index.accept("never-seen", null);
    assertEquals(List.of("b"), ids(index.get("org-2")));
  }

  @Test
  void shouldKeepARowUpdatedInPlaceWithItsLatestValue() {
    GroupIndex<String, Row> index = new GroupIndex<>(Row::org);
    Row first = new Row("a", "org-1");
    Row second = new Row("a", "org-1");
    index.accept("a", first);

    index.accept("a", second);

    assertEquals(1, index.get("org-1").size());
    assertTrue(index.get("org-1").get(0) == second, "the latest value, not the first");
  }

  private static List<String> ids(List<Row> rows) {
    return rows.stream().map(Row::id).sorted().toList();
  }
}
