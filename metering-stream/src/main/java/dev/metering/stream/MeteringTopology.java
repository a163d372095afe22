package dev.metering.stream;

import dev.metering.kafka.MisplacedRecords;
import dev.metering.records.AlertRule;
import dev.metering.records.ApiKey;
import dev.metering.records.OrgBudget;
import dev.metering.records.UsageEvent;
import dev.metering.records.state.AlertRuleSet;
import dev.metering.records.state.MonthState;
import dev.metering.records.state.UsageTotals;
import dev.metering.schemas.RecordSerdes;
import dev.metering.schemas.Topics;
import dev.metering.stream.ingest.DecodedUsage;
import dev.metering.stream.ingest.DecodedUsageSerde;
import dev.metering.stream.ingest.EventTimeExtractor;
import dev.metering.stream.ingest.IngestOutcome;
import dev.metering.stream.ingest.IngestProcessor;
import dev.metering.stream.ingest.UsageValidation;
import dev.metering.stream.limits.KeyLimits;
import dev.metering.stream.limits.LimitRecheckProcessor;
import dev.metering.stream.limits.LimitStores;
import dev.metering.stream.limits.OrgLimits;
import dev.metering.stream.limits.RuleSets;
import dev.metering.stream.pricing.PriceBook;
import dev.metering.stream.rocksdb.CheckpointedWindowStores;
import dev.metering.stream.spikes.SpikeSettings;
import dev.metering.stream.usage.AcceptedUsage;
import dev.metering.stream.usage.KeyByOrg;
import dev.metering.stream.usage.KeyUsageProcessor;
import dev.metering.stream.usage.OrgKeyTotals;
import dev.metering.stream.usage.OrgUsageProcessor;
import dev.metering.stream.usage.Progress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The metering topology, built from its configuration alone:
 * <pre>
 * usage-events -> ingest (decode, validate, dedup, count) -+-> usage-events-dlq
 *                                                          +-> per key: hour, day, month -> limit-events, spike-events
 *                                                          +-> by org_id, with every partition's watermark
 *                                                              -> per org: hour, day -> spike-events
 *                                                              -> per org: month -> limit-events (org budget)
 * api-keys (table) ---------> recheck the key's open months -> limit-events
 * alert-rules (by api_key_id) -> recheck the key's open months -> limit-events
 * org-budgets (table) ------> recheck the org's open months -> limit-events
 * alert-rules without a key (by org_id) -> recheck the org's open months -> limit-events
 * </pre>
 */
public final class MeteringTopology {

  /** Alert rules by rule id, the table the per-key aggregation is built from. */
  public static final String RULES_BY_ID_STORE = "alert-rules-by-id";

  private MeteringTopology() {
  }

  /**
   * @param usagePartitions partitions of usage-events: how many watermarks each org task waits for
   */
  public static Topology build(MeteringConfig config, PriceBook prices, int usagePartitions) {
    return build(config, prices, usagePartitions, new RunningTasks());
  }

  /**
   * @param running told which key and org tasks are running, so queries read no store still being
   *     restored
   */
  public static Topology build(MeteringConfig config, PriceBook prices, int usagePartitions, RunningTasks running) {
    StreamsBuilder builder = new StreamsBuilder();
    addStores(builder, config);

    // defined before ingest, which counts each event under its key's registered org
    KTable<String, ApiKey> apiKeys = builder.table(Topics.API_KEYS.name(),
        Consumed.with(Topics.API_KEYS.keySerde(), Topics.API_KEYS.valueSerde()).withName("api-keys-source"),
        configStore(KeyLimits.API_KEYS_STORE, Topics.API_KEYS.valueSerde()));

    UsageValidation validation = new UsageValidation(config.futureTolerance(), config.lateGrace(), usagePartitions);
    KStream<String, DecodedUsage> raw = builder.stream(Topics.USAGE_EVENTS.name(),
        Consumed.with(Serdes.String(), DecodedUsageSerde.serde())
            .withTimestampExtractor(new EventTimeExtractor(validation))
            .withName("usage-events-source"));

    Map<String, KStream<String, IngestOutcome>> outcomes = raw
        .process(running.reporting(
                () -> new IngestProcessor(validation, config.dedupWindow(), config.partitionIdleAfter())),
            Named.as("ingest"),
            IngestProcessor.DEDUP_STORE, IngestProcessor.COUNTERS_STORE, Progress.INGEST_STORE,
            KeyLimits.API_KEYS_STORE)
        .split(Named.as("ingest-"))
        .branch((key, outcome) -> outcome instanceof IngestOutcome.Rejected, Branched.as("rejected"))
        .branch((key, outcome) -> outcome instanceof IngestOutcome.Watermark, Branched.as("watermark"))
        .defaultBranch(Branched.as("accepted"));

    outcomes.get("ingest-rejected")
        .map((key, outcome) -> KeyValue.pair(
                key == null ? null : key.getBytes(StandardCharsets.UTF_8), ((IngestOutcome.Rejected) outcome).raw()),
            Named.as("dead-letter"))
        .to(Topics.USAGE_EVENTS_DLQ.name(), Produced.with(Serdes.ByteArray(), Serdes.ByteArray())
            .withName("usage-events-dlq-sink"));

    // priced once, here: the key's totals and its organisation's add the same cost (CostHeader)
    KStream<String, AcceptedUsage> accepted = outcomes.get("ingest-accepted")
        .mapValues(outcome -> AcceptedUsage.price((IngestOutcome.Accepted) outcome, prices), Named.as("accepted"));

    Serde<AlertRule> ruleSerde = Topics.ALERT_RULES.valueSerde();
    KTable<String, AlertRule> rules = builder.table(Topics.ALERT_RULES.name(),
        Consumed.with(Topics.ALERT_RULES.keySerde(), ruleSerde).withName("alert-rules-source"),
        configStore(RULES_BY_ID_STORE, ruleSerde));
    RuleSets ruleSets = new RuleSets(config.maxRulesPerKey());
    // a rule names a key, or no key for the organisation's budget: each kind is grouped by its scope
    KTable<String, AlertRuleSet> rulesByKey = rulesOf(
        rules.filter((ruleId, rule) -> rule.getApiKeyId() != null, Named.as("key-alert-rules")),
        AlertRule::getApiKeyId, "alert-rules-by-key", KeyLimits.RULES_BY_KEY_STORE, ruleSets);
    KTable<String, AlertRuleSet> rulesByOrg = rulesOf(
        rules.filter((ruleId, rule) -> rule.getApiKeyId() == null, Named.as("org-alert-rules")),
        AlertRule::getOrgId, "alert-rules-by-org", OrgLimits.RULES_BY_ORG_STORE, ruleSets);
    KTable<String, OrgBudget> budgets = builder.table(Topics.ORG_BUDGETS.name(),
        Consumed.with(Topics.ORG_BUDGETS.keySerde(), Topics.ORG_BUDGETS.valueSerde()).withName("org-budgets-source"),
        configStore(OrgLimits.BUDGETS_STORE, Topics.ORG_BUDGETS.valueSerde()));

    SpikeSettings spikes = new SpikeSettings(config.spikeFactor(), config.spikeMinBaselineTokens());
    List<String> keyStores = new ArrayList<>(List.of(
        KeyUsageProcessor.HOURLY_STORE, KeyUsageProcessor.DAILY_STORE, KeyUsageProcessor.SPIKES_FIRED_STORE));
    keyStores.addAll(List.of(KeyLimits.storeNames()));
    accepted
        .process(() -> new KeyUsageProcessor(spikes, config.maxModelsPerBucket()), Named.as("meter-keys"),
            keyStores.toArray(String[]::new))
        .to(new OutputTopics(), Produced.with(Serdes.String(), OutputTopics.valueSerde()).withName("key-outputs-sink"));

    // the tables others write are checked for records in another partition than their key's; the
    // rule sets come through this topology's own repartition topics, partitioned by key
    recheckLimits(apiKeys.toStream(Named.as("api-key-changes")), "key-change", KeyLimits.STORES, config,
        new MisplacedRecords("metering-stream", Topics.API_KEYS.name(),
            "the key's limit and rules are not applied to its usage, which is metered in its own partition"),
        usagePartitions);
    recheckLimits(rulesByKey.toStream(Named.as("alert-rule-changes")), "rule-change", KeyLimits.STORES, config, null,
        usagePartitions);
    // the org repartition topic has usage-events' partition count (Kafka Streams' default)
    recheckLimits(budgets.toStream(Named.as("org-budget-changes")), "budget-change", OrgLimits.STORES, config,
        new MisplacedRecords("metering-stream", Topics.ORG_BUDGETS.name(),
            "the budget is not applied to the organisation's usage, which is metered in its own partition"),
        usagePartitions);
    recheckLimits(rulesByOrg.toStream(Named.as("org-alert-rule-changes")), "org-rule-change", OrgLimits.STORES,
        config, null, usagePartitions);

    List<String> orgStores = new ArrayList<>(List.of(OrgUsageProcessor.HOURLY_STORE, OrgUsageProcessor.DAILY_STORE,
        OrgUsageProcessor.SPIKES_FIRED_STORE, OrgUsageProcessor.PENDING_STORE, OrgKeyTotals.STORE, Progress.ORG_STORE));
    orgStores.addAll(List.of(OrgLimits.storeNames()));
    KStream<String, UsageEvent> watermarks = outcomes.get("ingest-watermark")
        .map((key, outcome) -> KeyValue.pair(((IngestOutcome.Watermark) outcome).markerKey(), (UsageEvent) null),
            Named.as("watermark-marker"));
    accepted
        .process(KeyByOrg::new, Named.as("key-by-org"))
        .merge(watermarks, Named.as("usage-and-watermarks"))
        .repartition(Repartitioned.with(Serdes.String(), Topics.USAGE_EVENTS.valueSerde()).withName("usage-by-org")
            .withStreamPartitioner(new OrgPartitioner()))
        .process(running.reporting(() -> new OrgUsageProcessor(prices, spikes, config.maxModelsPerBucket(),
                usagePartitions, config.lateGrace(), config.dailyRetention())), Named.as("meter-orgs"),
            orgStores.toArray(String[]::new))
        .to(new OutputTopics(), Produced.with(Serdes.String(), OutputTopics.valueSerde()).withName("org-outputs-sink"));

    return builder.build();
  }

  /** Alert rules of one scope, aggregated into a set per key (or per org) with the repartition {@code name}. */
  private static KTable<String, AlertRuleSet> rulesOf(KTable<String, AlertRule> rules,
      java.util.function.Function<AlertRule, String> scope, String name, String store, RuleSets ruleSets) {
    Serde<AlertRule> ruleSerde = Topics.ALERT_RULES.valueSerde();
    return rules
        .groupBy((ruleId, rule) -> KeyValue.pair(scope.apply(rule), rule), Grouped.with(name, Serdes.String(), ruleSerde))
        .aggregate(RuleSets::empty, ruleSets::add, ruleSets::remove, Named.as(name + "-aggregate"),
            configStore(store, RecordSerdes.forType(AlertRuleSet.class)));
  }

  /**
   * The store of a configuration table (api-keys, alert rules, budgets), without a record cache.
   * These tables are read for every event and written only when configuration changes, so a cache
   * coalesces nothing for them; cached, their entries (one for every key, rule set and budget read)
   * filled the stream threads' shared cache beside the org stores, which do coalesce many events per
   * commit. A full cache evicts from the store being written, and evicting a pending entry writes out
   * all of that store's pending entries: 6% of the stream threads' time in a profile. Uncached, the
   * pipeline spent about a seventh less CPU per event (docs/benchmarks.md, "Record caches for the
   * org stores only"). A change now goes on to the rechecks as it comes, not at the next commit.
   */
  private static <V> Materialized<String, V, KeyValueStore<Bytes, byte[]>> configStore(String name, Serde<V> values) {
    return Materialized.<String, V, KeyValueStore<Bytes, byte[]>>as(name)
        .withKeySerde(Serdes.String()).withValueSerde(values).withCachingDisabled();
  }

  private static <V> void recheckLimits(KStream<String, V> changes, String cause, LimitStores stores,
      MeteringConfig config, MisplacedRecords misplaced, int partitions) {
    changes
        .process(() -> new LimitRecheckProcessor<V>(stores, config.lateGrace(), misplaced, partitions),
            Named.as("recheck-on-" + cause),
            stores.recheckStores())
        .to(Topics.LIMIT_EVENTS.name(), Produced.with(Topics.LIMIT_EVENTS.keySerde(), Topics.LIMIT_EVENTS.valueSerde())
            .withName(cause + "-limit-events-sink"));
  }

  /**
   * Record caches only where they coalesce writes: stores with a few hot keys (counters, progress,
   * org totals) take many updates per commit interval and write once. Per-key stores are touched
   * about once per key per commit, so a cache there only adds its own bookkeeping to every write
   * (the pipeline ran 17% faster without it; with the caches' 128 MiB, caching the key hour, day and
   * month stores still gained nothing: docs/benchmarks.md, "Record cache size").
   */
  private static void addStores(StreamsBuilder builder, MeteringConfig config) {
    Serde<UsageTotals> totals = RecordSerdes.forType(UsageTotals.class);
    for (String store : List.of(IngestProcessor.COUNTERS_STORE, Progress.INGEST_STORE, Progress.ORG_STORE)) {
      builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(store), Serdes.String(),
          Serdes.Long()).withCachingEnabled());
    }
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(KeyLimits.MONTH_STORE), Serdes.String(), RecordSerdes.forType(MonthState.class)));
    // an org's month takes every event of its keys: the cache writes it once per commit
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(OrgLimits.MONTH_STORE), Serdes.String(), RecordSerdes.forType(MonthState.class))
        .withCachingEnabled());
    builder.addStateStore(Stores.keyValueStoreBuilder(
        Stores.persistentKeyValueStore(OrgUsageProcessor.PENDING_STORE), Serdes.String(), Serdes.Long()));
    // an org's hot keys take many events per commit: the cache writes each (bucket, key) once per commit.
    // Compacted only: entries leave by the processor's deletes at their retention, never by the broker's clock.
    builder.addStateStore(Stores.keyValueStoreBuilder(
            Stores.persistentKeyValueStore(OrgKeyTotals.STORE), Serdes.String(), OrgKeyTotals.SERDE)
        .withCachingEnabled()
        .withLoggingEnabled(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)));

    Map<String, Serde<?>> values = Map.of(
        IngestProcessor.DEDUP_STORE, Serdes.Long(),
        KeyUsageProcessor.SPIKES_FIRED_STORE, Serdes.Long(),
        OrgUsageProcessor.SPIKES_FIRED_STORE, Serdes.Long());
    Set<String> fewHotKeys = Set.of(
        OrgUsageProcessor.HOURLY_STORE, OrgUsageProcessor.DAILY_STORE, OrgUsageProcessor.SPIKES_FIRED_STORE);
    for (StateTopics.WindowStoreSpec store : StateTopics.windowStores(config)) {
      builder.addStateStore(windowStore(store.name(), store.retention(), store.size(),
          values.getOrDefault(store.name(), totals), fewHotKeys.contains(store.name()),
          StateTopics.windowChangelogConfigs(config, store.retention())));
    }
  }

  private static <V> StoreBuilder<WindowStore<String, V>> windowStore(String name, Duration retention, Duration size,
      Serde<V> valueSerde, boolean cached, Map<String, String> changelogConfigs) {
    // offsets in the checkpoint file: an empty window store otherwise wipes and restores its task on every reopen
    StoreBuilder<WindowStore<String, V>> store = Stores.windowStoreBuilder(
        CheckpointedWindowStores.persistent(name, retention, size), Serdes.String(), valueSerde)
        .withLoggingEnabled(changelogConfigs);
    return cached ? store.withCachingEnabled() : store;
  }
}
