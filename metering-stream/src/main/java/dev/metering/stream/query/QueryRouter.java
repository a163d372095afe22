package dev.metering.stream.query;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Where a query is answered. A key's (or an org's) query is read where its partition is active:
 * here, or forwarded once to the owner; a standby's copy only when the caller allows stale data.
 * An org-wide query fans out to every instance, each reading its own active partitions, and is
 * answered only when together they cover every partition. Anything else is a 503
 * ({@link UnavailableException}), never a partial or double-counted answer.
 */
final class QueryRouter {

  private final Cluster cluster;
  private final HostInfo self;
  private final int usagePartitions;
  private final InstanceClient instances;
  private final Supplier<LocalQueries.Coverage> localCoverage;
  private final LongSupplier tasksClosed;

  /**
   * @param localCoverage what this instance's local part reads (its active partitions)
   * @param tasksClosed how many times a running task here has closed ({@code RunningTasks.Readable#closes})
   */
  QueryRouter(Cluster cluster, HostInfo self, int usagePartitions, InstanceClient instances,
      Supplier<LocalQueries.Coverage> localCoverage, LongSupplier tasksClosed) {
    this.cluster = cluster;
    this.self = self;
    this.usagePartitions = usagePartitions;
    this.instances = instances;
    this.localCoverage = localCoverage;
    this.tasksClosed = tasksClosed;
  }

  /** A mark to check a local read against with {@link #requireNoCloseSince}. */
  long closesMark() {
    return tasksClosed.getAsLong();
  }

  /**
   * 503 unless no task here has closed since {@code mark}. A task found corrupted while its thread
   * runs on is closed, then its stores are wiped and restored under the same name, which can all
   * happen between a query's check that the task is running and its read: that read may have seen
   * an empty or half-restored store.
   */
  void requireNoCloseSince(long mark, String what) {
    if (tasksClosed.getAsLong() != mark) {
      throw new UnavailableException("a task here closed while " + what + " was read; its stores may have been"
          + " wiped meanwhile");
    }
  }

  int usagePartitions() {
    return usagePartitions;
  }

  /** A read of one partition; a store that moved or started restoring mid-read is a 503, not an error. */
  @FunctionalInterface
  interface PartitionQuery {
    Object read(int partition, boolean stale);
  }

  /** Reads {@code key}'s partition of {@code store} here if it is active here, else forwards once to its owner. */
  QueryService.Answer route(String store, String key, boolean allowStale, QueryService.Call call, PartitionQuery query) {
    requireStarted();
    Cluster.Owner owner = cluster.owner(store, key);
    if (owner == null) {
      throw new UnavailableException("no instance owns " + key + " right now (rebalancing)");
    }
    if (self.equals(owner.active())) {
      try {
        return new QueryService.Answer.Local(read(query, owner.partition(), false));
      } catch (UnavailableException restoring) {
        if (!allowStale) {
          throw restoring;
        }
        return new QueryService.Answer.Local(read(query, owner.partition(), true));
      }
    }
    if (allowStale && owner.standbys().contains(self)) {
      return new QueryService.Answer.Local(read(query, owner.partition(), true));
    }
    if (call.forwarded()) {
      throw new UnavailableException("ownership of " + key + " moved while the request was forwarded");
    }
    return instances.forward(owner.active(), call.pathAndQuery());
  }

  /**
   * Asks every instance for its part and merges the parts; asked for this instance's part only
   * (by another instance's fan-out), answers it with the headers that say what it read.
   */
  <T> QueryService.Answer fanOut(QueryService.Call call, Class<T> type, Supplier<T> localPart,
      Function<List<T>, T> merge) {
    if (call.localScope()) {
      Part<T> part = readLocalPart(localPart);
      return new QueryService.Answer.Local(part.body(), HttpInstanceClient.coverageHeaders(part.coverage()));
    }
    return new QueryService.Answer.Local(merge.apply(gather(call.pathAndQuery(), type, localPart).stream()
        .map(Part::body).toList()));
  }

  /**
   * Every instance's part of the query at {@code pathAndQuery}: this one's read here, the others'
   * asked for; 503 unless the group is running with every partition active somewhere, and the parts
   * together read every partition exactly once.
   */
  <T> List<Part<T>> gather(String pathAndQuery, Class<T> type, Supplier<T> localPart) {
    requireStarted();
    if (cluster.state() != KafkaStreams.State.RUNNING) {
      throw new UnavailableException("the instances are rebalancing");
    }
    List<Cluster.Instance> all = cluster.instances();
    Set<Integer> covered = new HashSet<>();
    all.forEach(instance -> covered.addAll(instance.usagePartitions()));
    if (covered.size() < usagePartitions) {
      throw new UnavailableException("only " + covered.size() + " of " + usagePartitions
          + " partitions have an active instance right now");
    }
    List<CompletableFuture<Part<T>>> parts = new ArrayList<>();
    for (Cluster.Instance instance : all) {
      if (instance.host().equals(self)) {
        parts.add(CompletableFuture.completedFuture(readLocalPart(localPart)));
      } else {
        parts.add(instances.part(instance.host(), pathAndQuery, type));
      }
    }
    List<Part<T>> answered;
    try {
      answered = parts.stream().map(CompletableFuture::join).toList();
    } catch (CompletionException e) {
      if (e.getCause() instanceof UnavailableException unavailable) {
        throw unavailable;
      }
      throw new UnavailableException("an instance did not answer: " + e.getCause().getMessage(), e.getCause());
    }
    if (!readEachPartitionOnce(answered)) {
      // a partition moved between instances while they read: its usage would be missing or counted twice
      throw new UnavailableException("partitions moved between instances during the query");
    }
    return answered;
  }

  /**
   * Whether the parts read every partition exactly once: false if one was missed or read twice
   * (it moved between instances while they read), or if an instance did not say what it read.
   */
  <T> boolean readEachPartitionOnce(List<Part<T>> parts) {
    Set<Integer> partitions = new HashSet<>();
    for (Part<T> part : parts) {
      if (part.coverage() == null) {
        return false;
      }
      for (int partition : part.coverage().partitions()) {
        if (!partitions.add(partition)) {
          return false;
        }
      }
    }
    return partitions.size() == usagePartitions;
  }

  /** Reads the local part, with what it covered: measured before and after, and unknown if that changed meanwhile. */
  private <T> Part<T> readLocalPart(Supplier<T> part) {
    long mark = closesMark();
    LocalQueries.Coverage before = localCoverage.get();
    T body;
    try {
      body = part.get();
    } catch (InvalidStateStoreException e) {
      throw new UnavailableException("state moved while it was read: " + e.getMessage(), e);
    }
    LocalQueries.Coverage after = localCoverage.get();
    requireNoCloseSince(mark, "this instance's part");
    return new Part<>(body, before.equals(after) ? before : null);
  }

  private Object read(PartitionQuery query, int partition, boolean stale) {
    long mark = closesMark();
    Object answer;
    try {
      answer = query.read(partition, stale);
    } catch (InvalidStateStoreException e) {
      throw new UnavailableException("partition " + partition + " is not queryable here right now: " + e.getMessage(), e);
    }
    if (!stale) {
      requireNoCloseSince(mark, "partition " + partition);
    }
    return answer;
  }

  private void requireStarted() {
    KafkaStreams.State state = cluster.state();
    if (state != KafkaStreams.State.RUNNING && state != KafkaStreams.State.REBALANCING) {
      throw new UnavailableException("metering-stream is " + state);
    }
  }
}
