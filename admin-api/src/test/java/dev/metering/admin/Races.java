package dev.metering.admin;

import dev.metering.client.AdminApiException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Requests sent at the same moment from threads of their own. */
final class Races {

  private Races() {
  }

  /** A creation that answers with a value, or throws. */
  interface Creation {
    Object create(int index) throws Exception;
  }

  /**
   * Runs {@code count} creations at once (each thread waits at a start gate until all are ready)
   * and returns how many succeeded; a creation refused with 409 counts as refused, any other
   * failure fails the test.
   */
  static int succeeded(int count, Creation creation) throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(count);
    try {
      CountDownLatch ready = new CountDownLatch(count);
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Boolean>> outcomes = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        int index = i;
        outcomes.add(threads.submit(() -> {
          ready.countDown();
          go.await();
          try {
            creation.create(index);
            return true;
          } catch (AdminApiException.Conflict refused) {
            return false;
          }
        }));
      }
      ready.await();
      go.countDown();
      int succeeded = 0;
      for (Future<Boolean> outcome : outcomes) {
        succeeded += outcome.get() ? 1 : 0;
      }
      return succeeded;
    } finally {
      threads.shutdownNow();
    }
  }
}
