package dev.metering.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.metering.schemas.Topic;
import dev.metering.schemas.Topics;
import org.junit.jupiter.api.Test;

class TopicSetupTest {

  @Test
  void shouldSpecifyExactlyTheTopicsOfTheContract() {
    var specified = TopicSetup.standard(6, (short) 1).specs().stream().map(TopicSpec::name).sorted().toList();

    assertEquals(Topics.ALL.stream().map(Topic::name).sorted().toList(), specified);
  }

  @Test
  void shouldGiveCoPartitionedTopicsTheSamePartitionCount() {
    var specs = TopicSetup.standard(6, (short) 3).specs();

    TopicSetup.CO_PARTITIONED.forEach(topic -> assertEquals(6, specs.stream()
        .filter(s -> s.name().equals(topic.name())).findFirst().orElseThrow().partitions()));
  }

  @Test
  void shouldRequireTwoInSyncReplicasWhenReplicatedThreeTimes() {
    TopicSetup.standard(6, (short) 3).specs()
        .forEach(spec -> assertEquals("2", spec.configs().get("min.insync.replicas"), spec.name()));
  }

  @Test
  void shouldRejectImpossibleSpecs() {
    assertThrows(IllegalArgumentException.class, () -> TopicSetup.standard(0, (short) 1));
    assertThrows(IllegalArgumentException.class, () -> TopicSetup.standard(1, (short) 0));
  }
}
