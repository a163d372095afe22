package dev.metering.stream.ingest;

/**
 * Names of the exact per-partition counters kept in {@link IngestProcessor#COUNTERS_STORE}.
 * Every consumed record increments exactly one of accepted, duplicate or dead-lettered, in
 * the same transaction as its effects, so accepted + duplicate + dead_lettered = consumed.
 */
public final class IngestCounters {

  public static final String ACCEPTED = "accepted";
  public static final String DUPLICATE = "duplicate";
  public static final String DEAD_LETTERED = "dead_lettered";
  /**
   * Accepted events whose org_id was not their key's registered organisation, counted under the
   * key's: a part of accepted, not a fourth outcome.
   */
  public static final String ORG_CORRECTED = "org_corrected";

  /** Dead-lettered records by reason: {@code dead_lettered.LATE_EVENT} and so on. */
  public static String deadLettered(RejectReason reason) {
    return DEAD_LETTERED + "." + reason.name();
  }

  private IngestCounters() {
  }
}
