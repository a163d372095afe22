package dev.metering.stream.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.CompletableFuture;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;

/** Where a query is answered, without a broker: the group's state and ownership are given, the other instances recorded. */
class QueryRouterTest {

  private static final HostInfo SELF = new HostInfo("10.0.0.1", 8081);
  private static final HostInfo OTHER = new HostInfo("10.0.0.2", 8081);
  private static final String STORE = "key-usage-daily";

  private final GivenCluster cluster = new GivenCluster();
  private final RecordingInstances instances = new RecordingInstances();
  private LocalQueries.Coverage localCoverage = new LocalQueries.Coverage(Set.of(0, 1));
  private final AtomicLong tasksClosed = new AtomicLong();
  private final QueryRouter router = new QueryRouter(cluster, SELF, 4, instances, () -> localCoverage,
      tasksClosed::get);

  private static QueryService.Call call(boolean forwarded) {
    return new QueryService.Call("/v1/keys/k1/usage?start_date=2026-11-01", name -> null, forwarded, false);
  }

  private static Object body(QueryService.Answer answer) {
    return assertInstanceOf(QueryService.Answer.Local.class, answer).body();
  }

  @Test
  void readsAnActivePartitionHereFresh() {
    cluster.owners.put("k1", new Cluster.Owner(3, SELF, Set.of(OTHER)));
    Object body = body(router.route(STORE, "k1", false, call(false), (partition, stale) -> partition + "/" + stale));
    assertEquals("3/false", body);
    assertTrue(instances.asked.isEmpty());
  }

  @Test
  void aReadOverlappingATaskCloseHereIs503UnlessStaleIsAllowed() {
    // a task found corrupted under a running thread closes, then its stores are wiped and restored:
    // a read that checked the task running before the close may have read them in between
    cluster.owners.put("k1", new Cluster.Owner(3, SELF, Set.of()));
    QueryRouter.PartitionQuery overlapping = (partition, stale) -> {
      tasksClosed.incrementAndGet();
      return stale ? "stale copy" : "maybe wiped";
    };
    UnavailableException refused = assertThrows(UnavailableException.class,
        () -> router.route(STORE, "k1", false, call(false), overlapping));
    assertTrue(refused.getMessage().contains("a task here closed while partition 3 was read"), refused.getMessage());
    assertEquals("stale copy", body(router.route(STORE, "k1", true, call(false), overlapping)));
    assertEquals("whole", body(router.route(STORE, "k1", false, call(false), (partition, stale) -> "whole")));
  }

  @Test
  void anInstancesPartOverlappingATaskCloseHereIs503() {
    QueryService.Call local = new QueryService.Call("/v1/orgs/o/usage/by_key", name -> null, false, true);
    assertThrows(UnavailableException.class, () -> router.fanOut(local, String.class, () -> {
      tasksClosed.incrementAndGet();
      return "maybe wiped";
    }, parts -> "merged"));
    assertEquals("whole", body(router.fanOut(local, String.class, () -> "whole", parts -> "merged")));
  }

  @Test
  void anActivePartitionStillRestoringIs503UnlessStaleIsAllowed() {
    cluster.owners.put("k1", new Cluster.Owner(3, SELF, Set.of()));
    QueryRouter.PartitionQuery restoring = (partition, stale) -> {
      if (!stale) {
        throw new InvalidStateStoreException("restoring");
      }
      return "stale copy";
    };
    assertThrows(UnavailableException.class, () -> router.route(STORE, "k1", false, call(false), restoring));
    assertEquals("stale copy", body(router.route(STORE, "k1", true, call(false), restoring)));
  }

  @Test
  void aStandbyHereAnswersOnlyWhenStaleIsAllowedElseTheOwnerIsAsked() {
    cluster.owners.put("k1", new Cluster.Owner(2, OTHER, Set.of(SELF)));
    assertEquals("2/true", body(router.route(STORE, "k1", true, call(false), (p, stale) -> p + "/" + stale)));
    assertTrue(instances.asked.isEmpty());

    QueryService.Answer answer = router.route(STORE, "k1", false, call(false), (p, stale) -> "must not read here");
    assertEquals(new QueryService.Answer.Forwarded(200, "{\"from\":\"10.0.0.2\"}", Optional.empty()), answer);
    assertEquals(List.of("forward " + OTHER + " /v1/keys/k1/usage?start_date=2026-11-01"), instances.asked);
  }

  @Test
  void aKeyActiveElsewhereIsForwardedOnceAndAForwardedCallIsNotForwardedAgain() {
    cluster.owners.put("k1", new Cluster.Owner(1, OTHER, Set.of()));
    assertInstanceOf(QueryService.Answer.Forwarded.class, router.route(STORE, "k1", false, call(false), (p, s) -> "x"));
    UnavailableException moved = assertThrows(UnavailableException.class,
        () -> router.route(STORE, "k1", false, call(true), (p, s) -> "x"));
    assertTrue(moved.getMessage().contains("moved while the request was forwarded"), moved.getMessage());
    assertEquals(1, instances.asked.size());
  }

  @Test
  void noOwnerWhileRebalancingAndAGroupNotStartedAre503() {
    assertThrows(UnavailableException.class, () -> router.route(STORE, "k1", false, call(false), (p, s) -> "x"));
    cluster.owners.put("k1", new Cluster.Owner(0, SELF, Set.of()));
    cluster.state = KafkaStreams.State.PENDING_ERROR;
    UnavailableException e = assertThrows(UnavailableException.class,
        () -> router.route(STORE, "k1", false, call(false), (p, s) -> "x"));
    assertTrue(e.getMessage().contains("PENDING_ERROR"), e.getMessage());
  }

  @Test
  void aFanOutMergesThisInstancesPartWithTheOthersWhenTogetherTheyCoverEveryPartition() {
    cluster.instances.add(new Cluster.Instance(SELF, Set.of(0, 1)));
    cluster.instances.add(new Cluster.Instance(OTHER, Set.of(2, 3)));
    instances.parts.put(OTHER, new Part<>("theirs", new LocalQueries.Coverage(Set.of(2, 3))));
    QueryService.Answer answer = router.fanOut(call(false), String.class, () -> "mine",
        parts -> String.join("+", parts));
    assertEquals("mine+theirs", body(answer));
    assertEquals(List.of("part " + OTHER + " /v1/keys/k1/usage?start_date=2026-11-01"), instances.asked);
  }

  @Test
  void aFanOutIs503WhileAPartitionHasNoActiveInstanceOrTheGroupRebalancesOrAnInstanceFails() {
    cluster.instances.add(new Cluster.Instance(SELF, Set.of(0, 1)));
    cluster.instances.add(new Cluster.Instance(OTHER, Set.of(2)));
    UnavailableException missing = assertThrows(UnavailableException.class,
        () -> router.fanOut(call(false), String.class, () -> "mine", parts -> String.join("+", parts)));
    assertTrue(missing.getMessage().contains("only 3 of 4 partitions"), missing.getMessage());

    cluster.instances.set(1, new Cluster.Instance(OTHER, Set.of(2, 3)));
    cluster.state = KafkaStreams.State.REBALANCING;
    assertThrows(UnavailableException.class,
        () -> router.fanOut(call(false), String.class, () -> "mine", parts -> String.join("+", parts)));

    cluster.state = KafkaStreams.State.RUNNING; // OTHER has no part recorded: it fails
    assertThrows(UnavailableException.class,
        () -> router.fanOut(call(false), String.class, () -> "mine", parts -> String.join("+", parts)));
  }

  @Test
  void aLocalScopeCallAnswersThisInstancesPartWithWhatItRead() {
    QueryService.Call local = new QueryService.Call("/v1/orgs/o/usage/by_key", name -> null, false, true);
    QueryService.Answer.Local answer = assertInstanceOf(QueryService.Answer.Local.class,
        router.fanOut(local, String.class, () -> "mine", parts -> "merged"));
    assertEquals("mine", answer.body());
    assertEquals(Map.of(HttpInstanceClient.PARTITIONS_HEADER, "0,1"), answer.headers());
    assertTrue(instances.asked.isEmpty());
  }

  @Test
  void aFanOutWhosePartitionsMovedDuringTheReadIs503NotAMissingOrDoubleCount() {
    cluster.instances.add(new Cluster.Instance(SELF, Set.of(0, 1)));
    cluster.instances.add(new Cluster.Instance(OTHER, Set.of(2, 3)));
    // partition 1 moved to OTHER after this instance read it: it would be counted twice
    instances.parts.put(OTHER, new Part<>("theirs", new LocalQueries.Coverage(Set.of(1, 2, 3))));
    UnavailableException twice = assertThrows(UnavailableException.class,
        () -> router.fanOut(call(false), String.class, () -> "mine", parts -> String.join("+", parts)));
    assertTrue(twice.getMessage().contains("moved"), twice.getMessage());

    // this instance's partitions changed while it read: its part cannot say what it read
    instances.parts.put(OTHER, new Part<>("theirs", new LocalQueries.Coverage(Set.of(2, 3))));
    assertThrows(UnavailableException.class, () -> router.fanOut(call(false), String.class, () -> {
      localCoverage = new LocalQueries.Coverage(Set.of(0));
      return "mine";
    }, parts -> String.join("+", parts)));
  }

  @Test
  void partsReadEveryPartitionOnceOnlyWhenNoneIsMissingOrTwiceAndAllSay() {
    LocalQueries.Coverage a = new LocalQueries.Coverage(Set.of(0, 1));
    LocalQueries.Coverage b = new LocalQueries.Coverage(Set.of(2, 3));
    assertTrue(router.readEachPartitionOnce(List.of(new Part<>("a", a), new Part<>("b", b))));
    assertFalse(router.readEachPartitionOnce(List.of(new Part<>("a", a))), "a partition missing");
    assertFalse(router.readEachPartitionOnce(List.of(new Part<>("a", a), new Part<>("b", b),
        new Part<>("c", new LocalQueries.Coverage(Set.of(1))))), "a partition read twice");
    assertFalse(router.readEachPartitionOnce(List.of(new Part<>("a", a), new Part<>("b", null))),
        "an instance that did not say");
  }

  /** The group as given by each test. */
  private static final class GivenCluster implements Cluster {
    KafkaStreams.State state = KafkaStreams.State.RUNNING;
    final Map<String, Owner> owners = new HashMap<>();
    final List<Instance> instances = new ArrayList<>();

    @Override
    public KafkaStreams.State state() {
      return state;
    }

    @Override
    public Owner owner(String store, String key) {
      return owners.get(key);
    }

    @Override
    public List<Instance> instances() {
      return instances;
    }
  }

  /** The other instances: records what they were asked, answers forwards, and the parts given. */
  private static final class RecordingInstances implements InstanceClient {
    final List<String> asked = new ArrayList<>();
    final Map<HostInfo, Part<?>> parts = new HashMap<>();

    @Override
    public QueryService.Answer.Forwarded forward(HostInfo host, String pathAndQuery) {
      asked.add("forward " + host + " " + pathAndQuery);
      return new QueryService.Answer.Forwarded(200, "{\"from\":\"" + host.host() + "\"}", Optional.empty());
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> CompletableFuture<Part<T>> part(HostInfo host, String pathAndQuery, Class<T> type) {
      asked.add("part " + host + " " + pathAndQuery);
      Part<T> part = (Part<T>) parts.get(host);
      return part == null ? CompletableFuture.failedFuture(new UnavailableException("instance " + host + " answered 503"))
          : CompletableFuture.completedFuture(part);
    }
  }
}
