package dev.metering.stream.limits;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LimitEvaluatorTest {

  @Test
  void shouldCompareAgainstAThresholdExactlyAtTheBoundaryAndWithoutOverflowForAnyLimit() {
    assertTrue(LimitEvaluator.reachedPercent(800, 80, 1000));
    assertFalse(LimitEvaluator.reachedPercent(799, 80, 1000));
    // issue 14: 80 x 9.2e16 overflowed a long, so a threshold on such a limit fired at once (or never)
    long huge = 92_233_720_368_547_758L;
    assertFalse(LimitEvaluator.reachedPercent(1, 80, huge));
    assertFalse(LimitEvaluator.reachedPercent(huge / 100 * 79, 80, huge));
    assertTrue(LimitEvaluator.reachedPercent((huge / 100 + 1) * 80, 80, huge));
    assertTrue(LimitEvaluator.reachedPercent(Long.MAX_VALUE, 100, Long.MAX_VALUE));
    assertFalse(LimitEvaluator.reachedPercent(Long.MAX_VALUE - 1, 100, Long.MAX_VALUE));
  }
}
