package dev.metering.admin.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The audit readers' pool as admin-api sizes it: four places, three of them at most for one organisation. */
class OrgSharesTest {

  @Test
  void shouldLeaveAQuarterOfThePlacesToTheOtherOrganisations() {
    OrgShares readers = new OrgShares(4, "audit log reads");
    for (int i = 0; i < 3; i++) {
      readers.take("org-busy");
    }

    ApiError refused = assertThrows(ApiError.class, () -> readers.take("org-busy"));
    readers.take("org-other");

    assertEquals(503, refused.status());
    assertEquals("this organisation already has 3 audit log reads under way, the most one may have; retry when one"
        + " has finished", refused.getMessage());
    readers.give("org-busy");
    readers.take("org-busy");
  }

  @Test
  void shouldGiveEveryOrganisationAtLeastOnePlaceOfATinyPool() {
    OrgShares one = new OrgShares(1, "usage queries");

    one.take("org-a");
    one.take("org-b");

    assertThrows(ApiError.class, () -> one.take("org-a"));
  }
}
