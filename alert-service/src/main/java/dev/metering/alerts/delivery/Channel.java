package dev.metering.alerts.delivery;

import dev.metering.records.Notification;
import java.util.concurrent.CompletableFuture;

/** Sends notifications of one channel; never blocks the caller. */
public interface Channel extends AutoCloseable {

  CompletableFuture<Attempt> send(Notification notification);

  @Override
  default void close() {
  }
}
