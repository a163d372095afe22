package dev.metering.stream.limits;

import static dev.metering.stream.MeteringFixture.rule;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.metering.records.state.AlertRuleSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RuleSetsTest {

  private final RuleSets ruleSets = new RuleSets(2);

  @Test
  void shouldLeaveTheSetItIsGivenAsItWasWhenAddingOrRemoving() {
    AlertRuleSet one = ruleSets.add("key-1", rule("rule-50", "key-1", 50), RuleSets.empty());

    AlertRuleSet two = ruleSets.add("key-1", rule("rule-80", "key-1", 80), one);
    AlertRuleSet back = ruleSets.remove("key-1", rule("rule-50", "key-1", 50), two);

    assertEquals(Set.of("rule-50"), one.getRules().keySet(), "the set added to");
    assertEquals(Set.of("rule-50", "rule-80"), two.getRules().keySet(), "the set removed from");
    assertEquals(Set.of("rule-80"), back.getRules().keySet());
  }

  @Test
  void shouldReturnTheSameSetWhenNothingChanges() {
    AlertRuleSet full = ruleSets.add("key-1", rule("rule-80", "key-1", 80),
        ruleSets.add("key-1", rule("rule-50", "key-1", 50), RuleSets.empty()));

    assertSame(full, ruleSets.add("key-1", rule("rule-90", "key-1", 90), full), "a rule beyond the key's limit");
    assertSame(full, ruleSets.remove("key-1", rule("rule-90", "key-1", 90), full), "a rule the set does not hold");
    assertEquals(Set.of("rule-50", "rule-80"), full.getRules().keySet());
  }
}
