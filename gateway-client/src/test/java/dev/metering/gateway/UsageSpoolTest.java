package dev.metering.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UsageSpoolTest {

  @TempDir
  Path dir;

  @Test
  void shouldGiveTheNextReporterEveryEventOfASegmentNotAllSettledAndNothingOfOneThatWas() throws IOException {
    try (UsageSpool spool = UsageSpool.open(dir)) {
      UsageSpool.Entry first = spool.append("e1", "key-a", bytes("one"));
      spool.append("e2", "key-b", bytes("two"));
      spool.settle(first);
    }
    try (UsageSpool next = UsageSpool.open(dir)) {
      List<UsageSpool.Spooled> left = next.leftovers();
      assertEquals(List.of("e1", "e2"), ids(left), "a segment is kept whole: e1 is sent again, and dropped by id");
      assertEquals("key-b", left.get(1).key());
      assertArrayEquals(bytes("two"), left.get(1).value());
      next.leftoversSettled();
    }
    try (UsageSpool third = UsageSpool.open(dir)) {
      assertEquals(List.of(), third.leftovers(), "sent and settled: not sent a third time");
    }
    assertEquals(List.of(), segments(), "a spool closed with everything settled leaves no segment behind");
  }

  @Test
  void shouldDeleteWhatItSettledItselfWhileLeftoversStillWait() throws IOException {
    try (UsageSpool spool = UsageSpool.open(dir)) {
      spool.append("left", "key-a", bytes("1"));
    }
    List<Path> left = segments();
    try (UsageSpool next = UsageSpool.open(dir)) {
      // stopped before the leftovers were sent; its own call was acknowledged
      next.settle(next.append("own", "key-a", bytes("2")));
    }
    assertEquals(left, segments(), "the leftovers wait; its own settled segment is gone");
    try (UsageSpool third = UsageSpool.open(dir)) {
      assertEquals(List.of("left"), ids(third.leftovers()));
    }
  }

  @Test
  void shouldNeverGiveBackAnEventTakenBackBecauseItsCallWasRefused() throws IOException {
    try (UsageSpool spool = UsageSpool.open(dir)) {
      spool.append("served", "key-a", bytes("1"));
      UsageSpool.Entry refused = spool.append("refused", "key-a", bytes("2"));
      spool.cancel(refused, "refused");
    }
    try (UsageSpool next = UsageSpool.open(dir)) {
      assertEquals(List.of("served"), ids(next.leftovers()));
    }
  }

  @Test
  void shouldReadUpToARecordTheCrashCutShortAndKeepGoingAfterIt() throws IOException {
    Path segment = segmentOfTwoEvents();
    byte[] whole = Files.readAllBytes(segment);
    // the second record's last bytes never reached the file
    Files.write(segment, java.util.Arrays.copyOf(whole, whole.length - 2));
    try (UsageSpool next = UsageSpool.open(dir)) {
      assertEquals(List.of("e1"), ids(next.leftovers()));
      next.append("e3", "key-a", bytes("three"));
    }
    try (UsageSpool third = UsageSpool.open(dir)) {
      assertEquals(List.of("e1", "e3"), ids(third.leftovers()), "later segments are read past the torn one");
    }
  }

  @Test
  void shouldStopAtARecordWhoseBytesChanged() throws IOException {
    Path segment = segmentOfTwoEvents();
    byte[] bytes = Files.readAllBytes(segment);
    bytes[bytes.length - 1] ^= 0x01;
    Files.write(segment, bytes);
    try (UsageSpool next = UsageSpool.open(dir)) {
      assertEquals(List.of("e1"), ids(next.leftovers()), "the damaged record fails its checksum");
    }
  }

  @Test
  void shouldDeleteSettledSegmentsOldestFirstOnly() throws IOException {
    try (UsageSpool spool = UsageSpool.open(dir, 1)) {
      // a segment of at most one event each: every append after the first begins a new one
      UsageSpool.Entry a = spool.append("a", "k", bytes("a"));
      UsageSpool.Entry b = spool.append("b", "k", bytes("b"));
      UsageSpool.Entry c = spool.append("c", "k", bytes("c"));
      assertEquals(3, spool.files().size());

      spool.settle(b);
      assertEquals(3, spool.files().size(), "b's segment waits for a's, the older one");
      spool.settle(a);
      assertEquals(1, spool.files().size(), "both gone; c's is the one being written");
      spool.settle(c);
      spool.settle(c);
    }
    assertEquals(List.of(), segments());
  }

  @Test
  void shouldKeepACancelAsLongAsTheEventItTakesBack() throws IOException {
    try (UsageSpool spool = UsageSpool.open(dir, 30)) {
      // segments of about two records: [x, refused], [cancel of refused, later], [last]
      spool.append("x", "k", bytes("x"));
      UsageSpool.Entry refused = spool.append("refused", "k", bytes("r"));
      spool.cancel(refused, "refused");
      UsageSpool.Entry later = spool.append("later", "k", bytes("l"));
      spool.append("last", "k", bytes("z"));
      assertEquals(3, spool.files().size());
      spool.settle(later);
      // the second segment is settled, but deleting it before the first would bring "refused" back
      assertEquals(3, spool.files().size());
    }
    try (UsageSpool next = UsageSpool.open(dir)) {
      assertEquals(List.of("x", "later", "last"), ids(next.leftovers()));
    }
  }

  @Test
  void shouldRefuseASecondReporterOnTheSameDirectory() throws IOException {
    try (UsageSpool spool = UsageSpool.open(dir)) {
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> UsageSpool.open(dir));
      assertTrue(e.getMessage().contains("in use by another reporter"), e.getMessage());
    }
    UsageSpool.open(dir).close();
  }

  @Test
  void shouldIgnoreFilesThatAreNotSegments() throws IOException {
    Files.writeString(dir.resolve("notes.txt"), "not a segment", StandardOpenOption.CREATE);
    try (UsageSpool spool = UsageSpool.open(dir)) {
      assertEquals(List.of(), spool.leftovers());
    }
    assertTrue(Files.exists(dir.resolve("notes.txt")));
  }

  /** A segment left with events e1 and e2, unsettled. */
  private Path segmentOfTwoEvents() throws IOException {
    try (UsageSpool spool = UsageSpool.open(dir)) {
      spool.append("e1", "key-a", bytes("one"));
      spool.append("e2", "key-a", bytes("two"));
    }
    return segments().get(0);
  }

  private List<Path> segments() throws IOException {
    try (var files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".spool")).sorted().toList();
    }
  }

  private static List<String> ids(List<UsageSpool.Spooled> spooled) {
    return spooled.stream().map(UsageSpool.Spooled::eventId).toList();
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
