package dev.metering.admin.audit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.metering.api.admin.AuditLogEntry;
import dev.metering.api.openapi.OneOf;
import dev.metering.schemas.AuditEventType;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class AuditEventTypesTest {

  /** The API's documented event types are the design contract's, so a filter a client builds from them is accepted. */
  @Test
  void theDocumentedEventTypesAreExactlyTheContracts() throws Exception {
    OneOf documented = AuditLogEntry.class.getRecordComponents()[2].getAnnotation(OneOf.class);
    assertEquals("eventType", AuditLogEntry.class.getRecordComponents()[2].getName());
    assertEquals(Arrays.stream(AuditEventType.values()).map(AuditEventType::wireName).sorted().toList(),
        List.of(documented.value()).stream().sorted().toList());
    assertEquals(AuditRoutes.EVENT_TYPES.size(), documented.value().length);
  }
}
