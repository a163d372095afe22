package dev.metering.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.metering.api.query.UsageView;
import org.junit.jupiter.api.Test;

class SaturatingTest {

  @Test
  void shouldStopAtTheLargestLongInsteadOfWrappingToANegativeTotal() {
    assertEquals(Long.MAX_VALUE, Saturating.add(Long.MAX_VALUE - 10, 11));
    assertEquals(Long.MAX_VALUE, Saturating.add(Long.MAX_VALUE, Long.MAX_VALUE));
    assertEquals(Long.MAX_VALUE - 1, Saturating.add(Long.MAX_VALUE - 10, 9), "exact while it fits");
    assertEquals(Long.MIN_VALUE, Saturating.add(Long.MIN_VALUE + 1, -2));
    assertEquals(7, Saturating.add(10, -3));
    assertEquals(Long.MAX_VALUE, Saturating.add(Long.MAX_VALUE / 2, Long.MAX_VALUE / 2, 5, 0));
  }

  @Test
  void shouldCapTheSumOfUsageViewsWhateverTheOrder() {
    // a query summing many days of a key whose month reached the cap answered a negative cost
    UsageView huge = UsageView.of(Long.MAX_VALUE - 5, 0, 0, 0, 1, Long.MAX_VALUE - 5, 0);
    UsageView small = UsageView.of(10, 0, 0, 0, 1, 10, 0);

    UsageView sum = huge.plus(small);

    assertEquals(Long.MAX_VALUE, sum.inputTokens());
    assertEquals(Long.MAX_VALUE, sum.totalTokens());
    assertEquals(Long.MAX_VALUE, sum.costMicros());
    assertEquals(2, sum.requests());
    assertEquals(sum, small.plus(huge));
  }
}
