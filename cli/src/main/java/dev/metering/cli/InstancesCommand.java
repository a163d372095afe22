package dev.metering.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/**
 * The services' instances as their consumer groups see them, and the retiring of one stopped for
 * good. alert-service and metering-stream (with {@code METERING_INSTANCE_ID}) are static group
 * members: a stopped instance keeps its partitions for the session timeout (45 s) in case it comes
 * back, which is right for a restart and wrong for a scale-down, where its partitions (and the
 * suspensions alert-service would write for them) wait that long for nothing. Retiring removes its
 * members at once, so the others take its partitions over in a rebalance.
 */
@Command(name = "instances", mixinStandardHelpOptions = true,
    description = "The instances of alert-service and metering-stream in their consumer groups, and retiring one"
        + " stopped for good (a scale-down) so the others take its partitions at once instead of after the 45 s"
        + " session timeout. Talks to Kafka directly (KAFKA_BOOTSTRAP_SERVERS; ALERT_SERVICE_GROUP_ID and"
        + " METERING_APPLICATION_ID if the services set them).")
final class InstancesCommand extends CommandGroup {

  private static final Duration TIMEOUT = Duration.ofSeconds(15);
  private static final List<String> COLUMNS = List.of("service", "group", "instance_id", "member_id", "host",
      "partitions");

  /**
   * A service's consumer group, and how its static members are named after an instance id:
   * alert-service's event processor is the member named by its instance id and its dispatcher the
   * same with {@code -dispatcher}; Kafka Streams names each stream thread's member
   * {@code <instance id>-<thread number>}.
   */
  private record Group(String service, String id, String memberSuffix) {
    boolean isOf(String groupInstanceId, String instanceId) {
      return Pattern.matches(Pattern.quote(instanceId) + memberSuffix, groupInstanceId);
    }
  }

  private List<Group> groups() {
    String alerts = root.env("ALERT_SERVICE_GROUP_ID", "alert-service");
    return List.of(
        new Group("alert-service", alerts, ""),
        new Group("alert-service", alerts + "-dispatcher", "-dispatcher"),
        new Group("metering-stream", root.env("METERING_APPLICATION_ID", "metering-stream"), "-\\d+"));
  }

  @Command(name = "list", mixinStandardHelpOptions = true,
      description = "Every member of the services' consumer groups: its instance id (static members), the"
          + " partitions it holds now.")
  void list(@Mixin Output.Options output) throws Exception {
    try (Admin admin = admin()) {
      List<Map<String, Object>> rows = new ArrayList<>();
      for (Group group : groups()) {
        for (MemberDescription member : describe(admin, group.id())) {
          rows.add(row(group, member));
        }
      }
      out(output).many(rows, COLUMNS);
    }
  }

  @Command(name = "retire", mixinStandardHelpOptions = true,
      description = "Remove a stopped instance's static members from the services' consumer groups, so the other"
          + " instances take its partitions over now. Run it only once the instance has stopped for good: a"
          + " running one loses its partitions in the middle of its work.")
  void retire(@Parameters(paramLabel = "INSTANCE_ID",
      description = "the instance's ALERT_SERVICE_INSTANCE_ID or METERING_INSTANCE_ID") String instanceId,
      @Mixin Output.Options output) throws Exception {
    try (Admin admin = admin()) {
      List<Map<String, Object>> removed = new ArrayList<>();
      for (Group group : groups()) {
        List<MemberDescription> members = describe(admin, group.id()).stream()
            .filter(member -> member.groupInstanceId().map(id -> group.isOf(id, instanceId)).orElse(false))
            .toList();
        if (members.isEmpty()) {
          continue;
        }
        List<MemberToRemove> toRemove = members.stream()
            .map(member -> new MemberToRemove(member.groupInstanceId().orElseThrow())).toList();
        admin.removeMembersFromConsumerGroup(group.id(), new RemoveMembersFromConsumerGroupOptions(toRemove)
            .timeoutMs((int) TIMEOUT.toMillis())).all().get();
        members.forEach(member -> removed.add(row(group, member)));
      }
      if (removed.isEmpty()) {
        throw new MeteringCli.NotFound("no member of instance " + instanceId + " in the consumer groups "
            + groups().stream().map(Group::id).toList() + " (metering instances list shows who is there)");
      }
      out(output).many(removed, COLUMNS);
    }
  }

  private Admin admin() {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, root.kafkaBootstrapServers());
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
    return Admin.create(props);
  }

  /** The group's members now; none for a group that does not exist (the service never ran under that id). */
  private static List<MemberDescription> describe(Admin admin, String groupId) throws InterruptedException {
    try {
      ConsumerGroupDescription group = admin.describeConsumerGroups(List.of(groupId)).all().get().get(groupId);
      return new ArrayList<>(group.members());
    } catch (ExecutionException e) {
      if (e.getCause() instanceof GroupIdNotFoundException) {
        return List.of();
      }
      if (e.getCause() instanceof KafkaException kafka) {
        throw kafka;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  private static Map<String, Object> row(Group group, MemberDescription member) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("service", group.service());
    row.put("group", group.id());
    row.put("instance_id", member.groupInstanceId().orElse(null));
    row.put("member_id", member.consumerId());
    row.put("host", member.host());
    row.put("partitions", member.assignment().topicPartitions().size());
    return row;
  }
}
