package dev.metering.stream.limits;

import static dev.metering.stream.MeteringFixture.budget;
import static dev.metering.stream.MeteringFixture.event;
import static dev.metering.stream.MeteringFixture.idInPartition;
import static dev.metering.stream.MeteringFixture.key;
import static dev.metering.stream.MeteringFixture.keyInPartition;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.metering.records.LimitEventKind;
import dev.metering.records.OrgBudget;
import dev.metering.schemas.Topics;
import dev.metering.stream.MeteringFixture;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Metrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * api-keys and org-budgets records written to another partition than their key's (by a tool
 * whose partitioner is not Kafka's default) are counted and logged, not silently left unapplied.
 */
class MisplacedRecordsTest {

  private static final String NOV = "2026-11-01T00:00:00Z";

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  // the driver runs the task of partition 0 of 4
  private final MeteringFixture fx = new MeteringFixture(Map.of(), 4);

  MisplacedRecordsTest() {
    Metrics.addRegistry(registry);
  }

  @AfterEach
  void close() {
    fx.close();
    Metrics.removeRegistry(registry);
  }

  @Test
  void shouldCountAnApiKeysRecordInAnotherPartitionThanItsKeyAndNotOneInItsOwn() {
    String here = keyInPartition(0, 4);
    String elsewhere = keyInPartition(2, 4);
    fx.send(event(here, "2026-11-10T12:00:00Z", 500));

    fx.putKey(key(here, 100L, true), NOV);
    assertEquals(LimitEventKind.LIMIT_BREACHED, fx.limitEvents.readValue().getKind(), "a placed key is judged");
    assertEquals(0, misplaced(Topics.API_KEYS.name()));

    fx.putKey(key(elsewhere, 100L, true), NOV);
    assertEquals(1, misplaced(Topics.API_KEYS.name()));
    assertTrue(fx.limitEvents.isEmpty());

    // deleting the stray copy where it was written is the remedy, not another misplaced record
    fx.apiKeys.pipeInput(elsewhere, null, Instant.parse(NOV));
    assertEquals(1, misplaced(Topics.API_KEYS.name()));
  }

  @Test
  void shouldCountAnOrgBudgetInAnotherPartitionThanItsOrg() {
    String here = idInPartition("org-", 0, 4);
    String elsewhere = idInPartition("org-", 1, 4);

    fx.putBudget(OrgBudget.newBuilder(budget(1000L, null, true)).setOrgId(here).build(), NOV);
    assertEquals(0, misplaced(Topics.ORG_BUDGETS.name()));
    fx.putBudget(OrgBudget.newBuilder(budget(1000L, null, true)).setOrgId(elsewhere).build(), NOV);
    assertEquals(1, misplaced(Topics.ORG_BUDGETS.name()));
  }

  private double misplaced(String topic) {
    Counter counter = registry.find("metering.records.misplaced").tag("topic", topic).counter();
    return counter == null ? 0 : counter.count();
  }
}
