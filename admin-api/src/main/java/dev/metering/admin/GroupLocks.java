package dev.metering.admin;

/**
 * Runs the check-then-create steps of one group (an organisation) one at a time on this
 * instance, so a cap on a group's rows (keys per organisation, alert rules per key) is checked
 * against every row created before it, not raced by concurrent requests that all saw room for
 * one more. Striped: a fixed number of locks, however many groups there are; groups that share
 * a stripe only wait for each other's creations. Other admin-api instances check their own
 * requests: in a race, each of them can still add one row past a cap.
 */
public final class GroupLocks {

  private static final int STRIPES = 64;
  private final Object[] stripes = new Object[STRIPES];

  public GroupLocks() {
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new Object();
    }
  }

  /** Runs {@code steps} while no other creation of {@code group} runs on this instance. */
  public void run(String group, Runnable steps) {
    synchronized (stripes[Math.floorMod(group.hashCode(), STRIPES)]) {
      steps.run();
    }
  }
}
