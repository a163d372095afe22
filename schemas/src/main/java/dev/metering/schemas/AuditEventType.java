package dev.metering.schemas;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The kinds of {@code AuditRecord.event_type}, the design contract's list. On the wire (and in
 * the admin API) each is its lower-case name, e.g. {@code key_created}; every writer of audit
 * records names its events through this type, so no misspelt kind can reach the log.
 */
public enum AuditEventType {
  KEY_CREATED, KEY_UPDATED, PERMISSION_CHANGED, LIMIT_CHANGED, KEY_REVOKED, KEY_ROTATED, KEY_SUSPENDED, KEY_REINSTATED,
  ALERT_CREATED, ALERT_DELETED, ALERT_SECRET_ROTATED, THRESHOLD_CROSSED, LIMIT_BREACHED, USAGE_SPIKE, ALERT_DELIVERED,
  ALERT_DELIVERY_FAILED, BUDGET_CHANGED, ORG_SUSPENDED, ORG_REINSTATED;

  /** The name in AuditRecord.event_type and the admin API. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The kind a wire name stands for, if any. */
  public static Optional<AuditEventType> fromWire(String name) {
    return Arrays.stream(values()).filter(type -> type.wireName().equals(name)).findFirst();
  }
}
