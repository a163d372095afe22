package dev.metering.stream.limits;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.records.LimitEvent;
import dev.metering.records.LimitEventKind;
import org.junit.jupiter.api.Test;

class PromptCommitTest {

  private static final long NOW = 1_796_000_000_000L;
  private static final long LIVE = PromptCommit.LIVE.toMillis();

  @Test
  void shouldCommitAtOnceForEveryBreachOrClearingOfLiveUsage() {
    // a hard breach suspends; a soft one reinstates a key switched from hard; a clearing reinstates
    assertTrue(PromptCommit.wanted(event(LimitEventKind.LIMIT_BREACHED, true), NOW, NOW));
    assertTrue(PromptCommit.wanted(event(LimitEventKind.LIMIT_BREACHED, false), NOW - LIVE, NOW));
    assertTrue(PromptCommit.wanted(event(LimitEventKind.LIMIT_CLEARED, true), NOW + 5_000, NOW));
  }

  @Test
  void shouldLeaveThresholdCrossingsAndOldCausesToTheCommitInterval() {
    assertFalse(PromptCommit.wanted(event(LimitEventKind.THRESHOLD_CROSSED, true), NOW, NOW));
    assertFalse(PromptCommit.wanted(event(LimitEventKind.LIMIT_BREACHED, true), NOW - LIVE - 1, NOW),
        "a backfill's breach");
  }

  private static LimitEvent event(LimitEventKind kind, boolean hard) {
    return LimitEvent.newBuilder()
        .setKind(kind).setOrgId("org-1").setApiKeyId("key-1").setPeriod("2026-11").setUsedTokens(1_200)
        .setLimitTokens(1_000).setPercent(120.0).setHardLimit(hard).setDetectedAt(NOW).build();
  }
}
