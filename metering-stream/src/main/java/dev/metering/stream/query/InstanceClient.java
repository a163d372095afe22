package dev.metering.stream.query;

import java.util.concurrent.CompletableFuture;
import org.apache.kafka.streams.state.HostInfo;

/** How one metering-stream instance asks another. */
interface InstanceClient {

  /** The owner's answer to a query forwarded to it, passed on as it is; it does not forward again. */
  QueryService.Answer.Forwarded forward(HostInfo host, String pathAndQuery);

  /**
   * {@code host}'s part of a fanned-out query, read from its own partitions only; fails with an
   * {@link UnavailableException} unless it answers 200 with a readable body.
   */
  <T> CompletableFuture<Part<T>> part(HostInfo host, String pathAndQuery, Class<T> type);
}
