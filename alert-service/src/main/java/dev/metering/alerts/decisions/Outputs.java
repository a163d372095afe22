package dev.metering.alerts.decisions;

import dev.metering.records.AuditRecord;
import dev.metering.records.KeyStatus;
import dev.metering.records.Notification;
import java.util.ArrayList;
import java.util.List;

/**
 * What one input event (or a lapsed suspension) makes alert-service write, in one transaction.
 *
 * @param withheld the notifications an alert about a long-closed period would have sent: counted,
 *     never written
 */
public record Outputs(List<KeyStatus> statuses, List<Notification> notifications, List<AuditRecord> audits,
    List<Notification> withheld) {

  public static Outputs empty() {
    return new Outputs(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
  }

  public boolean isEmpty() {
    return statuses.isEmpty() && notifications.isEmpty() && audits.isEmpty();
  }
}
