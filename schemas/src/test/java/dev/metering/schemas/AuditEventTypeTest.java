package dev.metering.schemas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AuditEventTypeTest {

  @Test
  void shouldNameEveryKindOfTheContractByItsWireName() {
    // the design contract's list, plus alert_secret_rotated (per-rule webhook secrets, issue 14)
    List<String> contract = List.of("key_created", "key_updated", "permission_changed", "limit_changed", "key_revoked",
        "key_rotated", "key_suspended", "key_reinstated", "alert_created", "alert_deleted", "alert_secret_rotated",
        "threshold_crossed", "limit_breached", "usage_spike", "alert_delivered", "alert_delivery_failed",
        // organisation budgets (issue 18)
        "budget_changed", "org_suspended", "org_reinstated");

    assertEquals(contract, Arrays.stream(AuditEventType.values()).map(AuditEventType::wireName).toList());
    for (AuditEventType type : AuditEventType.values()) {
      assertEquals(Optional.of(type), AuditEventType.fromWire(type.wireName()));
    }
    assertTrue(AuditEventType.fromWire("KEY_CREATED").isEmpty(), "wire names are lower case");
    assertTrue(AuditEventType.fromWire("key_deleted").isEmpty());
  }
}
