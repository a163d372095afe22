package dev.metering.stream.usage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The keys of org days waiting for their spike baseline, which stores written by earlier versions hold. */
class PendingKeyTest {

  @Test
  void shouldWriteTheSameKeysAsTheFormatEarlierVersionsStored() {
    List<Long> days = new ArrayList<>(List.of(0L, 1L, 86_400_000L, 1_795_000_000_000L, Long.MAX_VALUE, -1L,
        -86_400_000L, Long.MIN_VALUE));
    Random random = new Random(42);
    for (int i = 0; i < 1_000; i++) {
      days.add(random.nextLong());
      days.add(Periods.dayStart(Math.abs(random.nextLong() % 4_000_000_000_000L)));
    }
    for (long day : days) {
      assertEquals(String.format("%019d|%s", day, "org-1"), OrgUsageProcessor.pendingKey("org-1", day), "day " + day);
    }
  }

  @Test
  void shouldOrderKeysByDayBeforeOrg() {
    String earlier = OrgUsageProcessor.pendingKey("org-z", 86_400_000L * 9);
    String later = OrgUsageProcessor.pendingKey("org-a", 86_400_000L * 10);
    assertTrue(earlier.compareTo(later) < 0, earlier + " before " + later);
    assertTrue(later.compareTo(OrgUsageProcessor.pendingKey("", 86_400_000L * 11)) < 0);
  }
}
