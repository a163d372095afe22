package dev.metering.alerts.decisions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.records.AlertRule;
import java.util.List;
import org.junit.jupiter.api.Test;

class RuleIndexTest {

  @Test
  void shouldFindRulesByIdKeyAndOrganisationInIdOrder() {
    RuleIndex index = RuleIndex.of(List.of(rule("r-2", "org-1", "key-1", 80), rule("r-1", "org-1", "key-1", 50),
        rule("r-3", "org-1", null, 90), rule("r-4", "org-2", "key-9", 50)));

    assertEquals(List.of("r-1", "r-2"), ids(index.forKey("key-1")));
    assertEquals(List.of("r-3"), ids(index.forOrgBudget("org-1")));
    assertEquals(List.of("r-1", "r-2", "r-3"), ids(index.forOrg("org-1")));
    assertEquals(List.of("r-4"), ids(index.forOrg("org-2")));
    assertEquals(90, index.rule("r-3").orElseThrow().getThresholdPercent());
    assertTrue(index.forKey("key-unknown").isEmpty());
    assertTrue(index.forOrgBudget("org-2").isEmpty());
  }

  @Test
  void shouldFollowUpdatesMovesAndDeletions() {
    RuleIndex index = RuleIndex.of(List.of(rule("r-1", "org-1", "key-1", 50), rule("r-2", "org-1", "key-1", 80)));

    index.update("r-1", rule("r-1", "org-1", "key-1", 60));
    assertEquals(List.of(60, 80), index.forKey("key-1").stream().map(AlertRule::getThresholdPercent).toList());

    // a rule moved to another key, then onto the organisation's budget, is only found where it is now
    index.update("r-2", rule("r-2", "org-1", "key-2", 80));
    assertEquals(List.of("r-1"), ids(index.forKey("key-1")));
    assertEquals(List.of("r-2"), ids(index.forKey("key-2")));
    index.update("r-2", rule("r-2", "org-1", null, 80));
    assertTrue(index.forKey("key-2").isEmpty());
    assertEquals(List.of("r-2"), ids(index.forOrgBudget("org-1")));
    index.update("r-2", rule("r-2", "org-1", "key-3", 80));
    assertTrue(index.forOrgBudget("org-1").isEmpty());
    assertEquals(List.of("r-2"), ids(index.forKey("key-3")));

    // a tombstone deletes it everywhere
    index.update("r-2", null);
    assertTrue(index.rule("r-2").isEmpty());
    assertTrue(index.forKey("key-3").isEmpty());
    assertEquals(List.of("r-1"), ids(index.forOrg("org-1")));
    index.update("r-1", null);
    assertTrue(index.forOrg("org-1").isEmpty());
    assertTrue(index.forKey("key-1").isEmpty());
    // a tombstone for a rule never seen changes nothing
    index.update("r-unknown", null);
    assertTrue(index.rule("r-unknown").isEmpty());
  }

  private static List<String> ids(List<AlertRule> rules) {
    return rules.stream().map(AlertRule::getId).toList();
  }

  private static AlertRule rule(String id, String org, String key, int threshold) {
    return AlertRule.newBuilder().setId(id).setOrgId(org).setName(id).setApiKeyId(key)
        .setThresholdPercent(threshold).setNotificationEmail("ops@example.com").setWebhookUrl(null)
        .setCreatedBy("admin@example.com").setCreatedAt(0L).build();
  }
}
