package dev.metering.stream;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.UnknownMemberIdException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The group members of an instance with a stable id (static membership) that will never come back.
 * Kafka Streams names each stream thread's member {@code <instance id>-<thread number>}, and keeps
 * a member whose thread stopped, awaiting its return, for the session timeout (45 s) with its
 * partitions assigned and nobody metering them. Two such members never return: the thread a
 * failure replaced (its replacement gets the next number; Kafka Streams removes nothing), and,
 * after a restart, any numbered beyond the configured thread count (the replacements of an earlier
 * run). Both are removed from the group, so their partitions move at once.
 */
final class StaticMembers implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(StaticMembers.class);
  private static final Pattern THREAD_NUMBER = Pattern.compile("-StreamThread-(\\d+)$");
  /** How long a removal keeps trying: the failure that replaced a thread is often an outage. */
  private static final Duration KEEP_TRYING = Duration.ofMinutes(5);
  private static final Duration RETRY_EVERY = Duration.ofSeconds(2);

  private final Admin admin;
  private final String group;
  private final String instanceId;
  private final ExecutorService removals = Executors.newSingleThreadExecutor(runnable -> {
    Thread thread = new Thread(runnable, "static-member-removal");
    thread.setDaemon(true);
    return thread;
  });

  StaticMembers(String bootstrapServers, String group, String instanceId) {
    this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000, AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000));
    this.group = group;
    this.instanceId = instanceId;
  }

  /** The member id of a stream thread of this instance, from the thread's name; null for another thread. */
  String memberOf(String threadName) {
    Matcher number = THREAD_NUMBER.matcher(threadName);
    return number.find() ? instanceId + "-" + number.group(1) : null;
  }

  /** Removes, in the background, the member of a stream thread that is being replaced. */
  void replaced(String threadName) {
    String member = memberOf(threadName);
    if (member == null) {
      return;
    }
    removals.execute(() -> {
      long deadline = System.nanoTime() + KEEP_TRYING.toNanos();
      while (!Thread.currentThread().isInterrupted()) {
        try {
          remove(List.of(member));
          log.info("removed the group member {} of the replaced stream thread {}: its partitions move now, not"
              + " after the session timeout", member, threadName);
          return;
        } catch (ExecutionException e) {
          if (e.getCause() instanceof UnknownMemberIdException) {
            return;
          }
          if (System.nanoTime() > deadline) {
            log.warn("could not remove the group member {} of the replaced stream thread {} ({}); its partitions"
                + " move once its session times out", member, threadName, e.getCause().getMessage());
            return;
          }
        } catch (InterruptedException e) {
          return;
        }
        try {
          Thread.sleep(RETRY_EVERY.toMillis());
        } catch (InterruptedException e) {
          return;
        }
      }
    });
  }

  /**
   * Removes this instance's members numbered beyond {@code threads}: left by replaced threads of
   * an earlier run, they would hold their partitions for the session timeout after this start.
   * Best effort: a failure is logged, and the session timeout does the same later.
   */
  void removeBeyond(int threads) {
    try {
      ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
      List<String> stale = description.members().stream()
          .map(MemberDescription::groupInstanceId).flatMap(java.util.Optional::stream)
          .filter(id -> id.startsWith(instanceId + "-"))
          .filter(id -> {
            String number = id.substring(instanceId.length() + 1);
            return number.matches("\\d+") && Integer.parseInt(number) > threads;
          })
          .toList();
      if (!stale.isEmpty()) {
        remove(stale);
        log.info("removed the group members {} that earlier runs of this instance left beyond its {} stream threads",
            stale, threads);
      }
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof GroupIdNotFoundException)) {
        log.warn("could not look for stale group members of instance {}: {}", instanceId, e.getCause().getMessage());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void remove(List<String> members) throws ExecutionException, InterruptedException {
    admin.removeMembersFromConsumerGroup(group, new RemoveMembersFromConsumerGroupOptions(
        members.stream().map(MemberToRemove::new).toList())).all().get();
  }

  @Override
  public void close() {
    removals.shutdownNow();
    try {
      removals.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    admin.close(Duration.ofSeconds(5));
  }
}
