package dev.metering.stream.query;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.util.RawValue;
import dev.metering.schemas.Topics;
import dev.metering.stream.usage.Progress;
import dev.metering.stream.usage.KeyUsageProcessor;
import dev.metering.stream.usage.OrgUsageProcessor;
import java.io.IOException;
import java.net.URI;
import dev.metering.keys.ServiceToken;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Answers usage queries correctly whichever instance receives them: a key's or an org's data is
 * read where its partition is active (here, or forwarded once to the owner), org-wide scans fan
 * out to every instance and merge. While the owner restores or the group rebalances, the answer
 * is 503 unless the caller allows a standby's (stale) copy.
 */
public final class QueryService {

  /** Header on an internal request: answer from this instance's own partitions only. */
  static final String LOCAL_SCOPE_HEADER = "X-Metering-Scope";
  /** Header on a forwarded request: do not forward again. */
  static final String FORWARDED_HEADER = "X-Metering-Forwarded";
  /** Headers of a local-scope answer: the usage-events partitions it read, and the time before which they are final. */
  static final String PARTITIONS_HEADER = "X-Metering-Partitions";
  static final String CLOSED_BEFORE_HEADER = "X-Metering-Closed-Before";

  /** What a query produced: a body to serialise here, or another instance's response to pass on. */
  public sealed interface Answer {
    record Local(Object body, Map<String, String> headers) implements Answer {
      public Local(Object body) {
        this(body, Map.of());
      }
    }

    record Forwarded(int status, String body, Optional<String> retryAfter) implements Answer {
    }
  }

  /** The request as routing needs it. */
  public record Call(String pathAndQuery, Function<String, String> param, boolean forwarded, boolean localScope) {
  }

  private static final int MAX_TOTALS_DAYS = 400;

  private final KafkaStreams streams;
  private final HostInfo self;
  private final int usagePartitions;
  private final LocalQueries local;
  private final HttpClient http;
  private final ObjectMapper json;
  private final Clock clock;
  private final long lateGraceMillis;
  private final ClosedBuckets closed;
  /** Presented to the other instances when forwarding. */
  private final ServiceToken token;

  /**
   * @param lateGrace metering-stream's late grace: buckets further behind every partition's stream time are final
   * @param closedBucketBytes memory for rendered final buckets of org reports by key; 0 renders every bucket every time
   */
  public QueryService(KafkaStreams streams, HostInfo self, int usagePartitions, ObjectMapper json, Clock clock,
      Duration lateGrace, long closedBucketBytes, ServiceToken token) {
    this.token = token;
    this.streams = streams;
    this.self = self;
    this.usagePartitions = usagePartitions;
    this.local = new LocalQueries(streams);
    this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    this.json = json;
    this.clock = clock;
    this.lateGraceMillis = lateGrace.toMillis();
    this.closed = new ClosedBuckets(closedBucketBytes, clock);
  }

  /** Hits and misses of the rendered final buckets, for /metrics. */
  public long closedBucketHits() {
    return closed.hits();
  }

  public long closedBucketMisses() {
    return closed.misses();
  }

  public long closedBucketBytes() {
    return closed.bytes();
  }

  public Answer currentPeriod(String apiKeyId, Call call) {
    String id = ReportRequest.id("api_key_id", apiKeyId);
    boolean allowStale = ReportRequest.bool("allow_stale", call.param().apply("allow_stale"));
    return route(KeyUsageProcessor.DAILY_STORE, id, allowStale, call,
        (partition, stale) -> local.currentPeriod(id, partition, stale, clock.instant()));
  }

  public Answer keyReport(String apiKeyId, Call call) {
    String id = ReportRequest.id("api_key_id", apiKeyId);
    ReportRequest request = ReportRequest.parse(call.param(), Set.of("model"), clock.instant());
    return route(KeyUsageProcessor.DAILY_STORE, id, request.allowStale(), call, (partition, stale) ->
        local.report(scopeStore(request, false), id, partition, request,
            local.freshness(Progress.INGEST_STORE, partition, stale)));
  }

  public Answer keyTotals(String apiKeyId, Call call) {
    return totals(ReportRequest.id("api_key_id", apiKeyId), false, call);
  }

  public Answer orgReport(String orgId, Call call) {
    String id = ReportRequest.id("org_id", orgId);
    ReportRequest request = ReportRequest.parse(call.param(), Set.of("api_key_id", "model"), clock.instant());
    if ("api_key_id".equals(request.groupBy())) {
      if (closed.enabled() && !call.localScope()) {
        return orgReportByKeyWithClosedBuckets(id, request, call);
      }
      return fanOut(call, Views.Report.class,
          () -> local.orgReportByKey(scopeStore(request, false), id, request),
          partials -> ReportAssembly.merge(request, partials));
    }
    return route(OrgUsageProcessor.DAILY_STORE, id, request.allowStale(), call, (partition, stale) ->
        local.report(scopeStore(request, true), id, partition, request,
            local.freshness(Progress.ORG_STORE, partition, stale)));
  }

  /**
   * An org report by key whose final buckets come rendered from {@link ClosedBuckets}: only the
   * buckets from the first one not there to the end of the page are read (the last one always,
   * for as_of), and those found final are kept. Final means before every partition's stream time
   * minus the late grace, measured before the read, with every partition read exactly once.
   */
  private Answer orgReportByKeyWithClosedBuckets(String orgId, ReportRequest request, Call call) {
    long width = request.width().millis();
    List<Object> data = new ArrayList<>();
    long readFrom = request.pageStart().toEpochMilli();
    for (; readFrom + width < request.pageEnd().toEpochMilli(); readFrom += width) {
      byte[] rendered = closed.get(new ClosedBuckets.Key(orgId, width, readFrom));
      if (rendered == null) {
        break;
      }
      data.add(new RawValue(new RawJson(rendered)));
    }
    Map<String, String> subPage = Map.of("page", ReportRequest.pageToken(Instant.ofEpochMilli(readFrom)),
        "limit", Long.toString((request.pageEnd().toEpochMilli() - readFrom) / width));
    ReportRequest sub = ReportRequest.parse(name -> subPage.containsKey(name) ? subPage.get(name) : call.param().apply(name),
        Set.of("api_key_id", "model"), clock.instant());
    List<Part<Views.Report>> parts = gather(withParams(call.pathAndQuery(), subPage), Views.Report.class,
        () -> local.orgReportByKey(scopeStore(sub, false), orgId, sub));
    Views.Report merged = ReportAssembly.merge(sub, parts.stream().map(Part::body).toList());
    Long closedBefore = merged.stale() ? null : closedBefore(parts);
    for (Views.Bucket bucket : merged.data()) {
      if (closedBefore != null && bucket.endingAt().toEpochMilli() <= closedBefore) {
        byte[] rendered = render(bucket);
        closed.put(new ClosedBuckets.Key(orgId, width, bucket.startingAt().toEpochMilli()), rendered);
        data.add(new RawValue(new RawJson(rendered)));
      } else {
        data.add(bucket);
      }
    }
    String next = request.nextPage();
    return new Answer.Local(new Views.RenderedReport(data, next != null, next, merged.asOf(), merged.stale()));
  }

  /** The parts' common closed-before time, or null unless they read every partition exactly once and all know it. */
  private Long closedBefore(List<Part<Views.Report>> parts) {
    Set<Integer> partitions = new HashSet<>();
    Long closedBefore = null;
    for (Part<Views.Report> part : parts) {
      if (part.coverage() == null || part.coverage().closedBefore() == null) {
        return null;
      }
      for (int partition : part.coverage().partitions()) {
        if (!partitions.add(partition)) {
          return null;
        }
      }
      closedBefore = closedBefore == null ? part.coverage().closedBefore()
          : Math.min(closedBefore, part.coverage().closedBefore());
    }
    return partitions.size() == usagePartitions ? closedBefore : null;
  }

  private byte[] render(Views.Bucket bucket) {
    try {
      return json.writeValueAsBytes(bucket);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot render a report bucket", e);
    }
  }

  /** {@code pathAndQuery} with each of {@code params} set to its (URL-safe) value. */
  static String withParams(String pathAndQuery, Map<String, String> params) {
    int q = pathAndQuery.indexOf('?');
    StringBuilder out = new StringBuilder(q < 0 ? pathAndQuery : pathAndQuery.substring(0, q)).append('?');
    if (q >= 0) {
      for (String pair : pathAndQuery.substring(q + 1).split("&")) {
        String name = pair.contains("=") ? pair.substring(0, pair.indexOf('=')) : pair;
        if (!pair.isEmpty() && !params.containsKey(name)) {
          out.append(pair).append('&');
        }
      }
    }
    params.forEach((name, value) -> out.append(name).append('=').append(value).append('&'));
    return out.substring(0, out.length() - 1);
  }

  public Answer orgTotals(String orgId, Call call) {
    return totals(ReportRequest.id("org_id", orgId), true, call);
  }

  /** A key's or an org's totals over a date range, from its daily buckets. */
  private Answer totals(String id, boolean org, Call call) {
    LocalDate[] range = ReportRequest.dateRange(call.param(), MAX_TOTALS_DAYS);
    boolean allowStale = ReportRequest.bool("allow_stale", call.param().apply("allow_stale"));
    String daily = org ? OrgUsageProcessor.DAILY_STORE : KeyUsageProcessor.DAILY_STORE;
    return route(daily, id, allowStale, call, (partition, stale) -> {
      Views.Freshness f = local.freshness(org ? Progress.ORG_STORE : Progress.INGEST_STORE, partition, stale);
      UsageView usage = local.totals(daily, id, partition, ReportRequest.startOfDay(range[0]),
          ReportRequest.startOfDay(range[1]), stale);
      return new Views.Totals(org ? id : null, org ? null : id, range[0], range[1], usage, f.asOf(), f.stale());
    });
  }

  public Answer orgTotalsByKey(String orgId, Call call) {
    String id = ReportRequest.id("org_id", orgId);
    LocalDate[] range = ReportRequest.dateRange(call.param(), MAX_TOTALS_DAYS);
    return fanOut(call, Views.ByKey.class, () -> {
      Views.Freshness f = local.localFreshness();
      Map<String, UsageView> byKey = local.totalsByKey(KeyUsageProcessor.DAILY_STORE, id,
          ReportRequest.startOfDay(range[0]), ReportRequest.startOfDay(range[1]));
      List<Views.KeyTotals> data = new ArrayList<>();
      byKey.forEach((key, usage) -> data.add(new Views.KeyTotals(key, usage)));
      return new Views.ByKey(id, range[0], range[1], data, f.asOf(), f.stale());
    }, partials -> {
      Map<String, UsageView> merged = new TreeMap<>();
      Views.Freshness f = null;
      for (Views.ByKey partial : partials) {
        partial.data().forEach(k -> merged.merge(k.apiKeyId(), k.usage(), UsageView::plus));
        Views.Freshness pf = new Views.Freshness(partial.asOf(), partial.stale());
        f = f == null ? pf : Views.Freshness.min(f, pf);
      }
      List<Views.KeyTotals> data = new ArrayList<>();
      merged.forEach((key, usage) -> data.add(new Views.KeyTotals(key, usage)));
      return new Views.ByKey(id, range[0], range[1], data, f == null ? null : f.asOf(), f != null && f.stale());
    });
  }

  private static String scopeStore(ReportRequest request, boolean org) {
    boolean hourly = request.width() == BucketWidth.HOUR;
    if (org) {
      return hourly ? OrgUsageProcessor.HOURLY_STORE : OrgUsageProcessor.DAILY_STORE;
    }
    return hourly ? KeyUsageProcessor.HOURLY_STORE : KeyUsageProcessor.DAILY_STORE;
  }

  /** Reads one key's (or org's) partition here if it is active here, else forwards once to its owner. */
  private Answer route(String store, String key, boolean allowStale, Call call, PartitionQuery query) {
    requireStarted();
    KeyQueryMetadata owner = streams.queryMetadataForKey(store, key, Serdes.String().serializer());
    if (owner == null || KeyQueryMetadata.NOT_AVAILABLE.equals(owner) || owner.activeHost() == null) {
      throw new UnavailableException("no instance owns " + key + " right now (rebalancing)");
    }
    boolean standbyHere = owner.standbyHosts().contains(self);
    if (self.equals(owner.activeHost())) {
      try {
        return new Answer.Local(query.run(owner.partition(), false));
      } catch (UnavailableException restoring) {
        if (!allowStale) {
          throw restoring;
        }
        return new Answer.Local(query.run(owner.partition(), true));
      }
    }
    if (allowStale && standbyHere) {
      return new Answer.Local(query.run(owner.partition(), true));
    }
    if (call.forwarded()) {
      throw new UnavailableException("ownership of " + key + " moved while the request was forwarded");
    }
    return forward(owner.activeHost(), call.pathAndQuery(), FORWARDED_HEADER);
  }

  /** One instance's part of a fanned-out query, with what it read (null if it did not say). */
  private record Part<T>(T body, LocalQueries.Coverage coverage) {
  }

  /** Asks every instance for the part it hosts and merges the parts; 503 unless every partition is covered. */
  private <T> Answer fanOut(Call call, Class<T> type, java.util.function.Supplier<T> localPart,
      Function<List<T>, T> merge) {
    if (call.localScope()) {
      Part<T> part = readLocalPart(localPart);
      Map<String, String> headers = new HashMap<>();
      headers.put(PARTITIONS_HEADER, part.coverage().partitions().stream().map(String::valueOf)
          .collect(java.util.stream.Collectors.joining(",")));
      if (part.coverage().closedBefore() != null) {
        headers.put(CLOSED_BEFORE_HEADER, Long.toString(part.coverage().closedBefore()));
      }
      return new Answer.Local(part.body(), headers);
    }
    return new Answer.Local(merge.apply(gather(call.pathAndQuery(), type, localPart).stream().map(Part::body).toList()));
  }

  /** Reads the local part, with what it covered: measured before and after, and unknown if that changed meanwhile. */
  private <T> Part<T> readLocalPart(java.util.function.Supplier<T> part) {
    LocalQueries.Coverage before = local.coverage(lateGraceMillis);
    T body = readLocally(part);
    LocalQueries.Coverage after = local.coverage(lateGraceMillis);
    return new Part<>(body, before.partitions().equals(after.partitions()) ? before
        : new LocalQueries.Coverage(before.partitions(), null));
  }

  /** Every instance's part of the query at {@code pathAndQuery}: this one's read here, the others' over HTTP. */
  private <T> List<Part<T>> gather(String pathAndQuery, Class<T> type, java.util.function.Supplier<T> localPart) {
    requireStarted();
    if (streams.state() != KafkaStreams.State.RUNNING) {
      throw new UnavailableException("the instances are rebalancing");
    }
    Collection<StreamsMetadata> instances = streams.metadataForAllStreamsClients();
    Set<Integer> covered = new HashSet<>();
    instances.forEach(instance -> instance.topicPartitions().stream()
        .filter(tp -> tp.topic().equals(Topics.USAGE_EVENTS.name()))
        .map(TopicPartition::partition)
        .forEach(covered::add));
    if (covered.size() < usagePartitions) {
      throw new UnavailableException("only " + covered.size() + " of " + usagePartitions
          + " partitions have an active instance right now");
    }
    List<CompletableFuture<Part<T>>> parts = new ArrayList<>();
    for (StreamsMetadata instance : instances) {
      if (instance.hostInfo().equals(self)) {
        parts.add(CompletableFuture.completedFuture(readLocalPart(localPart)));
      } else {
        parts.add(fetchAsync(instance.hostInfo(), pathAndQuery, type));
      }
    }
    try {
      return parts.stream().map(CompletableFuture::join).toList();
    } catch (CompletionException e) {
      if (e.getCause() instanceof UnavailableException unavailable) {
        throw unavailable;
      }
      throw new UnavailableException("an instance did not answer: " + e.getCause().getMessage(), e.getCause());
    }
  }

  private static <T> T readLocally(java.util.function.Supplier<T> part) {
    try {
      return part.get();
    } catch (InvalidStateStoreException e) {
      throw new UnavailableException("state moved while it was read: " + e.getMessage(), e);
    }
  }

  private void requireStarted() {
    KafkaStreams.State state = streams.state();
    if (state != KafkaStreams.State.RUNNING && state != KafkaStreams.State.REBALANCING) {
      throw new UnavailableException("metering-stream is " + state);
    }
  }

  private Answer forward(HostInfo host, String pathAndQuery, String header) {
    try {
      HttpResponse<String> response = http.send(request(host, pathAndQuery, header), HttpResponse.BodyHandlers.ofString());
      return new Answer.Forwarded(response.statusCode(), response.body(), response.headers().firstValue("Retry-After"));
    } catch (IOException e) {
      throw new UnavailableException("instance " + host + " did not answer: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UnavailableException("interrupted while asking " + host, e);
    }
  }

  private <T> CompletableFuture<Part<T>> fetchAsync(HostInfo host, String pathAndQuery, Class<T> type) {
    return http.sendAsync(request(host, pathAndQuery, LOCAL_SCOPE_HEADER), HttpResponse.BodyHandlers.ofString())
        .thenApply(response -> {
          if (response.statusCode() != 200) {
            throw new UnavailableException("instance " + host + " answered " + response.statusCode());
          }
          try {
            return new Part<>(json.readValue(response.body(), type), coverage(response.headers()));
          } catch (IOException e) {
            throw new UnavailableException("instance " + host + " sent an unreadable answer", e);
          }
        });
  }

  /** What a local-scope answer says it read; null if it says nothing usable (an older instance). */
  private static LocalQueries.Coverage coverage(java.net.http.HttpHeaders headers) {
    Optional<String> partitions = headers.firstValue(PARTITIONS_HEADER);
    if (partitions.isEmpty()) {
      return null;
    }
    try {
      Set<Integer> read = new HashSet<>();
      for (String partition : partitions.get().split(",")) {
        if (!partition.isEmpty()) {
          read.add(Integer.parseInt(partition));
        }
      }
      return new LocalQueries.Coverage(read, headers.firstValue(CLOSED_BEFORE_HEADER).map(Long::parseLong).orElse(null));
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private HttpRequest request(HostInfo host, String pathAndQuery, String header) {
    return HttpRequest.newBuilder(URI.create("http://" + host.host() + ":" + host.port() + pathAndQuery))
        .timeout(Duration.ofSeconds(10))
        .header(header, "1")
        .header("Authorization", token.authorization())
        .GET()
        .build();
  }

  /** A read of one partition; a store that moved or started restoring mid-read is a 503, not an error. */
  @FunctionalInterface
  private interface PartitionQuery {
    Object read(int partition, boolean stale);

    default Object run(int partition, boolean stale) {
      try {
        return read(partition, stale);
      } catch (InvalidStateStoreException e) {
        throw new UnavailableException("partition " + partition + " is not queryable here right now: " + e.getMessage(), e);
      }
    }
  }
}
