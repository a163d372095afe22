package dev.metering.admin.http;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A pool of places for slow work (usage queries, audit reads) of which one organisation holds at
 * most three quarters, so one tenant cannot keep the others from theirs, while one organisation
 * alone (the console asks four usage queries at once) still has room.
 */
public final class OrgShares {

  private final int perOrg;
  private final String what;
  private final Map<String, Integer> held = new ConcurrentHashMap<>();

  /**
   * @param places the places of the whole pool
   * @param what what holds a place, in the plural ("usage queries"), for the 503's message
   */
  public OrgShares(int places, String what) {
    this.perOrg = Math.max(1, places * 3 / 4);
    this.what = what;
  }

  /** Takes one of {@code orgId}'s places; 503 when it already holds its share. */
  public void take(String orgId) {
    boolean[] taken = {false};
    held.compute(orgId, (org, count) -> {
      int now = count == null ? 0 : count;
      taken[0] = now < perOrg;
      return taken[0] ? now + 1 : count;
    });
    if (!taken[0]) {
      throw new ApiError(503, "unavailable_error", "this organisation already has " + perOrg + " " + what
          + " under way, the most one may have; retry when one has finished", null);
    }
  }

  /** Gives back a place {@link #take} took. */
  public void give(String orgId) {
    held.computeIfPresent(orgId, (org, count) -> count == 1 ? null : count - 1);
  }
}
