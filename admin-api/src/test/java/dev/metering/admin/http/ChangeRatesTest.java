package dev.metering.admin.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ChangeRatesTest {

  private final AtomicLong now = new AtomicLong(TimeUnit.DAYS.toNanos(3));
  private final ChangeRates rates = new ChangeRates(60, now::get);

  @Test
  void shouldLetAMinutesWorthThroughAtOnceThenRefuseUntilOneIsEarned() {
    for (int i = 0; i < 60; i++) {
      assertEquals(OptionalLong.empty(), rates.take("org-a"), "change " + i);
    }

    assertEquals(OptionalLong.of(1), rates.take("org-a"), "one a second: the next in a second");
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(999));
    assertTrue(rates.take("org-a").isPresent(), "not yet");
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(1));
    assertEquals(OptionalLong.empty(), rates.take("org-a"));
  }

  @Test
  void shouldLetAChangeGivenBackBeTakenAgain() {
    for (int i = 0; i < 60; i++) {
      rates.take("org-a");
    }
    rates.giveBack("org-a");

    assertEquals(OptionalLong.empty(), rates.take("org-a"));
    assertTrue(rates.take("org-a").isPresent());
  }

  @Test
  void shouldCountEachOrganisationApart() {
    for (int i = 0; i < 60; i++) {
      rates.take("org-a");
    }

    assertTrue(rates.take("org-a").isPresent());
    assertEquals(OptionalLong.empty(), rates.take("org-b"));
  }

  @Test
  void shouldRefillNoFurtherThanAMinutesWorthAfterAQuietSpell() {
    rates.take("org-a");
    now.addAndGet(TimeUnit.HOURS.toNanos(5));

    int through = 0;
    while (rates.take("org-a").isEmpty()) {
      through++;
    }

    assertEquals(60, through);
  }

  @Test
  void shouldNameTheWholeSecondsToWaitWhenTheRateIsBelowOneASecond() {
    ChangeRates slow = new ChangeRates(6, now::get);
    for (int i = 0; i < 6; i++) {
      slow.take("org-a");
    }

    assertEquals(OptionalLong.of(10), slow.take("org-a"));
    now.addAndGet(TimeUnit.MILLISECONDS.toNanos(2500));
    assertEquals(OptionalLong.of(8), slow.take("org-a"), "7.5 s left, rounded up");
  }
}
