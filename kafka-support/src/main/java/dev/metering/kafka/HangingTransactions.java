package dev.metering.kafka;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.AbortTransactionSpec;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTransactionsResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.ListTransactionsOptions;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds and aborts hanging transactions on the system's topics: a transaction open on a partition
 * that its coordinator no longer counts as its own, so no marker will ever end it. Every
 * read_committed reader stops at its first offset for good: Kafka Streams restoring a changelog,
 * a task reading a repartition topic, alert-service, the topic views. Seen after a broker restart
 * (Kafka 4.3.1): a stream thread's first transaction, written as the broker shut down, stayed open
 * on a changelog and a repartition topic while the coordinator went on with the producer's next
 * epochs; the alert rule it carried never reached its key's task, and another time a task's
 * restoration never finished. The test is Kafka's own ({@code kafka-transactions.sh find-hanging},
 * KIP-664): hanging is an open transaction whose producer id maps to no transactional id, or whose
 * transactional id's coordinator does not list the partition among those of its ongoing or
 * completing transaction (a coordinator adds a partition before any record of it is written, and
 * lists it until its marker is), and no completing transaction (which may already carry its
 * producer's next id) awaits a marker on the partition. One such transaction is aborted only once
 * two checks at least {@code confirmAfter} apart found the same one (partition, producer, epoch,
 * first offset), so a transaction that completed between reading the partition and reading its
 * coordinator is never taken for one. Aborting is the only resolution the Admin API has, and the one Kafka's tool
 * applies: nothing a coordinator does not track can still be committed.
 */
public final class HangingTransactions implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HangingTransactions.class);
  /** Partitions per DescribeProducers request, as Kafka's tool does, so no request grows without bound. */
  private static final int PARTITIONS_PER_REQUEST = 500;

  /** An open transaction on one partition, as the partition's leader describes it. */
  public record Open(TopicPartition partition, long producerId, int producerEpoch, long firstOffset) {
  }

  private final Admin admin;
  private final Predicate<String> topics;
  private final Duration confirmAfter;
  private final Counter aborted;
  private final Counter abortFailures;
  /** Hanging transactions seen and not yet aborted, with when they were first seen (nanoTime). */
  private final Map<Open, Long> suspected = new HashMap<>();
  /** How many of them there are, for the gauge: one that stays needs an operator. */
  private final AtomicInteger found = new AtomicInteger();
  /** Those whose abort failed and was logged: logged once each, counted every time. */
  private final Set<Open> unabortable = new HashSet<>();
  private ScheduledExecutorService schedule;
  private boolean failing;

  /**
   * @param topics which topics to watch (by name)
   * @param confirmAfter how long a transaction must be seen hanging before it is aborted
   */
  public HangingTransactions(Admin admin, Predicate<String> topics, Duration confirmAfter, MeterRegistry metrics) {
    this.admin = Objects.requireNonNull(admin, "admin");
    this.topics = Objects.requireNonNull(topics, "topics");
    this.confirmAfter = Objects.requireNonNull(confirmAfter, "confirmAfter");
    this.aborted = Counter.builder("kafka.hanging.transactions.aborted")
        .description("transactions left open on a partition that their coordinator no longer tracked, aborted")
        .register(metrics);
    this.abortFailures = Counter.builder("kafka.hanging.transactions.abort.failures")
        .description("aborts of a hanging transaction the cluster refused (without ALTER on the cluster, say); tried"
            + " again at each check")
        .register(metrics);
    Gauge.builder("kafka.hanging.transactions.found", found, AtomicInteger::get)
        .description("transactions found hanging and not aborted yet: above 0 for longer than a minute, an operator"
            + " must abort them (see the log)")
        .register(metrics);
  }

  /** Checks every {@code every} on a daemon thread of its own until {@link #close()}. */
  public synchronized HangingTransactions start(Duration every) {
    schedule = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "hanging-transactions");
      thread.setDaemon(true);
      return thread;
    });
    schedule.scheduleWithFixedDelay(this::checkQuietly, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  private void checkQuietly() {
    try {
      check();
      if (failing) {
        failing = false;
        log.info("looking for hanging transactions works again");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | RuntimeException e) {
      // the cluster out of reach says so every few seconds already: once per spell is enough
      if (!failing) {
        failing = true;
        log.warn("cannot look for hanging transactions now ({}); trying again", message(e));
      }
    }
  }

  /**
   * One check: notes the hanging transactions, and aborts those seen hanging by an earlier check
   * at least {@code confirmAfter} ago.
   *
   * @return the transactions aborted
   */
  public synchronized List<Open> check() throws ExecutionException, InterruptedException {
    Map<Open, ProducerState> open = openTransactions();
    Set<Open> hanging = hanging(open);
    suspected.keySet().retainAll(hanging);
    long now = System.nanoTime();
    List<Open> abortedNow = new ArrayList<>();
    for (Open transaction : hanging) {
      Long since = suspected.putIfAbsent(transaction, now);
      if (since != null && now - since >= confirmAfter.toNanos() && abort(transaction, open.get(transaction))) {
        suspected.remove(transaction);
        abortedNow.add(transaction);
      }
    }
    unabortable.retainAll(suspected.keySet());
    found.set(suspected.size());
    return abortedNow;
  }

  private Map<Open, ProducerState> openTransactions() throws ExecutionException, InterruptedException {
    List<String> watched = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get().stream()
        .filter(topics).sorted().toList();
    List<TopicPartition> partitions = new ArrayList<>();
    if (!watched.isEmpty()) {
      admin.describeTopics(watched).allTopicNames().get().forEach((topic, description) ->
          description.partitions().forEach(p -> partitions.add(new TopicPartition(topic, p.partition()))));
    }
    Map<Open, ProducerState> open = new HashMap<>();
    for (int from = 0; from < partitions.size(); from += PARTITIONS_PER_REQUEST) {
      List<TopicPartition> batch = partitions.subList(from, Math.min(partitions.size(), from + PARTITIONS_PER_REQUEST));
      admin.describeProducers(batch).all().get().forEach((partition, state) ->
          state.activeProducers().forEach(producer -> producer.currentTransactionStartOffset().ifPresent(first ->
              open.put(new Open(partition, producer.producerId(), producer.producerEpoch(), first), producer))));
    }
    return open;
  }

  /** Of the open transactions, those no coordinator will end (read after the partitions, see the class comment). */
  private Set<Open> hanging(Map<Open, ProducerState> open) throws ExecutionException, InterruptedException {
    if (open.isEmpty()) {
      return Set.of();
    }
    Set<Long> producerIds = new HashSet<>();
    open.keySet().forEach(transaction -> producerIds.add(transaction.producerId()));
    Map<Long, String> transactionalIds = new HashMap<>();
    for (TransactionListing listing : admin.listTransactions(new ListTransactionsOptions()
        .filterProducerIds(producerIds)).all().get()) {
      transactionalIds.put(listing.producerId(), listing.transactionalId());
    }
    // A completing transaction may already carry its producer's next id (transactions v2 moves to
    // a new one when the epoch runs out, about every 32,000 transactions), so the partitions still
    // awaiting markers from any completing transaction count as tracked too.
    Set<String> completing = new HashSet<>();
    for (TransactionListing listing : admin.listTransactions(new ListTransactionsOptions()
        .filterStates(List.of(TransactionState.PREPARE_COMMIT, TransactionState.PREPARE_ABORT))).all().get()) {
      completing.add(listing.transactionalId());
    }
    Set<String> described = new HashSet<>(transactionalIds.values());
    described.addAll(completing);
    Map<String, TransactionDescription> coordinators = describe(described);
    Set<TopicPartition> awaitingMarkers = new HashSet<>();
    completing.forEach(id -> {
      if (coordinators.containsKey(id)) {
        awaitingMarkers.addAll(coordinators.get(id).topicPartitions());
      }
    });
    Set<Open> hanging = new HashSet<>();
    for (Open transaction : open.keySet()) {
      String transactionalId = transactionalIds.get(transaction.producerId());
      TransactionDescription coordinator = transactionalId == null ? null : coordinators.get(transactionalId);
      boolean tracked = coordinator != null && coordinator.topicPartitions().contains(transaction.partition());
      if (!tracked && !awaitingMarkers.contains(transaction.partition())) {
        hanging.add(transaction);
      }
    }
    return hanging;
  }

  /** The coordinators' view of each transactional id; absent for one its coordinator does not know. */
  private Map<String, TransactionDescription> describe(Collection<String> transactionalIds)
      throws ExecutionException, InterruptedException {
    Map<String, TransactionDescription> descriptions = new HashMap<>();
    if (transactionalIds.isEmpty()) {
      return descriptions;
    }
    DescribeTransactionsResult result = admin.describeTransactions(transactionalIds);
    for (String transactionalId : transactionalIds) {
      try {
        descriptions.put(transactionalId, result.description(transactionalId).get());
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TransactionalIdNotFoundException)) {
          throw e;
        }
      }
    }
    return descriptions;
  }

  /**
   * Aborts a hanging transaction; one the cluster refuses to abort is logged (once) with the
   * command an operator can run instead, and left for the next check. Whether it was aborted.
   */
  private boolean abort(Open transaction, ProducerState producer) throws InterruptedException {
    try {
      admin.abortTransaction(new AbortTransactionSpec(transaction.partition(), transaction.producerId(),
          (short) transaction.producerEpoch(), producer.coordinatorEpoch().orElse(0))).all().get();
    } catch (ExecutionException e) {
      abortFailures.increment();
      if (unabortable.add(transaction)) {
        // writing the abort marker takes ALTER (or CLUSTER_ACTION) on the cluster, which an
        // application's principal often lacks: then only an operator can end it
        log.error("found a hanging transaction on topic {} partition {} (producer {} epoch {}, open from offset {}),"
            + " but cannot abort it ({}): read_committed readers of the partition stay stopped there. Tried again at"
            + " each check; an operator can end it with: kafka-transactions.sh --bootstrap-server <brokers> abort"
            + " --topic {} --partition {} --start-offset {}", transaction.partition().topic(),
            transaction.partition().partition(), transaction.producerId(), transaction.producerEpoch(),
            transaction.firstOffset(), message(e), transaction.partition().topic(), transaction.partition().partition(),
            transaction.firstOffset());
      }
      return false;
    }
    aborted.increment();
    log.error("aborted a hanging transaction on topic {} partition {}: producer {} epoch {}, open from offset {}"
        + " with no coordinator to end it, so read_committed readers of the partition were stopped there",
        transaction.partition().topic(), transaction.partition().partition(), transaction.producerId(),
        transaction.producerEpoch(), transaction.firstOffset());
    return true;
  }

  private static String message(Throwable e) {
    Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
    return cause.getClass().getSimpleName() + ": " + cause.getMessage();
  }

  @Override
  public synchronized void close() {
    if (schedule != null) {
      schedule.shutdownNow();
    }
  }
}
