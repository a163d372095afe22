package dev.metering.api.openapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.api.ErrorResponse;
import dev.metering.api.Health;
import dev.metering.api.admin.AlertInfo;
import dev.metering.api.admin.AlertList;
import dev.metering.api.admin.ApiKeyInfo;
import dev.metering.api.admin.ApiKeyList;
import dev.metering.api.admin.AuditLogPage;
import dev.metering.api.admin.CreateAlert;
import dev.metering.api.admin.CreateApiKey;
import dev.metering.api.admin.DeletedAlert;
import dev.metering.api.admin.RotateApiKey;
import dev.metering.api.admin.UpdateApiKey;
import dev.metering.api.admin.UsageBatch;
import dev.metering.api.admin.UsageBatchResult;
import dev.metering.api.admin.UsageByKey;
import dev.metering.api.admin.UsageSummary;
import dev.metering.api.query.CurrentPeriod;
import dev.metering.api.query.Totals;
import dev.metering.api.query.TotalsByKey;
import dev.metering.api.query.UsageReport;
import dev.metering.json.Json;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class OpenApiTest {

  private static final ObjectMapper JSON = Json.mapper();
  private static final List<Class<?>> BODIES = List.of(ErrorResponse.class, Health.class, ApiKeyInfo.class,
      ApiKeyList.class, CreateApiKey.class, UpdateApiKey.class, RotateApiKey.class, AlertInfo.class, AlertList.class,
      CreateAlert.class, DeletedAlert.class, UsageSummary.class, UsageByKey.class, AuditLogPage.class, UsageBatch.class,
      UsageBatchResult.class, UsageReport.class, Totals.class, TotalsByKey.class, CurrentPeriod.class);

  private static Map<String, Object> documentOfEveryBody() {
    List<OpenApi.Operation> operations = new ArrayList<>();
    for (Class<?> body : BODIES) {
      operations.add(new OpenApi.Operation("POST", "/" + body.getSimpleName() + "/{id}", "op" + body.getSimpleName(),
          "answers a " + body.getSimpleName(), "bodies",
          List.of(OpenApi.Parameter.optional("mode", String.class, "a mode", "a", "b")), body, List.of(200), body,
          List.of(400, 404), "token"));
    }
    return OpenApi.document(new OpenApi.Info("t", "1", "every body", "http://localhost:1", "here"),
        Map.of("token", Map.of("type", "http", "scheme", "bearer")), ErrorResponse.class, operations);
  }

  @Test
  void theDocumentOfEveryBodyIsOneAClientCanBeGeneratedFrom() throws Exception {
    assertEquals(BODIES.size(), OpenApiAssertions.assertClientReady(JSON.writeValueAsString(documentOfEveryBody()))
        .getPaths().size());
  }

  /**
   * For every record reachable from the bodies: an instance with every component set is written
   * by {@link Json} with exactly the schema's properties, and one with every optional or nullable
   * component null still has every required property.
   */
  @Test
  void everySchemaNamesExactlyTheFieldsTheServerWrites() throws Exception {
    JsonNode schemas = JSON.valueToTree(documentOfEveryBody()).at("/components/schemas");
    Set<Class<?>> records = new HashSet<>();
    BODIES.forEach(body -> collect(body, records));
    assertEquals(records.size(), schemas.size(), "one schema per record: " + names(schemas));
    for (Class<?> record : records) {
      JsonNode schema = schemas.get(record.getSimpleName());
      Set<String> properties = names(schema.get("properties"));
      Set<String> required = new TreeSet<>();
      schema.path("required").forEach(name -> required.add(name.asText()));

      JsonNode full = JSON.valueToTree(sample(record, true));
      assertEquals(properties, names(full), record.getSimpleName() + " set in full");
      JsonNode sparse = JSON.valueToTree(sample(record, false));
      assertTrue(names(sparse).containsAll(required), record.getSimpleName() + " with nulls has " + names(sparse)
          + ", not every one of " + required);
      for (Iterator<Map.Entry<String, JsonNode>> it = sparse.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        if (field.getValue().isNull()) {
          assertTrue(schema.at("/properties/" + field.getKey() + "/nullable").asBoolean(),
              record.getSimpleName() + "." + field.getKey() + " is written as null but not nullable");
        }
      }
    }
  }

  @Test
  void twoRecordsOfOneNameOrTwoOperationsOfOneIdAreRefused() {
    record ApiKeyInfo(String id) {
    }
    List<OpenApi.Operation> clash = List.of(
        new OpenApi.Operation("GET", "/a", "a", "a", "t", List.of(), null, List.of(200),
            dev.metering.api.admin.ApiKeyInfo.class, List.of(), "token"),
        new OpenApi.Operation("GET", "/b", "b", "b", "t", List.of(), null, List.of(200), ApiKeyInfo.class, List.of(),
            "token"));
    OpenApi.Info info = new OpenApi.Info("t", "1", "d", "http://localhost:1", "here");
    Map<String, Map<String, Object>> security = Map.of("token", Map.of("type", "http", "scheme", "bearer"));
    assertThrows(IllegalArgumentException.class, () -> OpenApi.document(info, security, ErrorResponse.class, clash));
    List<OpenApi.Operation> sameId = List.of(
        new OpenApi.Operation("GET", "/a", "a", "a", "t", List.of(), null, List.of(200), Health.class, List.of(), "token"),
        new OpenApi.Operation("GET", "/b", "a", "b", "t", List.of(), null, List.of(200), Health.class, List.of(), "token"));
    assertThrows(IllegalArgumentException.class, () -> OpenApi.document(info, security, ErrorResponse.class, sameId));
  }

  private static Set<String> names(JsonNode object) {
    Set<String> names = new TreeSet<>();
    object.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static void collect(Type type, Set<Class<?>> records) {
    if (type instanceof ParameterizedType parameterized) {
      for (Type argument : parameterized.getActualTypeArguments()) {
        collect(argument, records);
      }
    } else if (type instanceof Class<?> c && c.isRecord() && records.add(c)) {
      for (RecordComponent component : c.getRecordComponents()) {
        collect(component.getGenericType(), records);
      }
    }
  }

  /** An instance of {@code record}: every component set, or only those that are neither optional nor nullable. */
  private static Object sample(Class<?> record, boolean full) throws Exception {
    RecordComponent[] components = record.getRecordComponents();
    Object[] values = new Object[components.length];
    Class<?>[] types = new Class<?>[components.length];
    for (int i = 0; i < components.length; i++) {
      types[i] = components[i].getType();
      boolean omittable = components[i].isAnnotationPresent(Nullable.class)
          || components[i].getAccessor().isAnnotationPresent(com.fasterxml.jackson.annotation.JsonInclude.class)
          || record.isAnnotationPresent(com.fasterxml.jackson.annotation.JsonInclude.class);
      JsonProperty property = components[i].getAccessor().getAnnotation(JsonProperty.class);
      omittable &= property == null || !property.required();
      values[i] = full || !omittable || types[i].isPrimitive() ? value(components[i], full) : null;
    }
    var constructor = record.getDeclaredConstructor(types);
    constructor.setAccessible(true);
    return constructor.newInstance(values);
  }

  private static Object value(RecordComponent component, boolean full) throws Exception {
    Class<?> type = component.getType();
    if (type == String.class) {
      return "x";
    }
    if (type == long.class || type == Long.class) {
      return 1L;
    }
    if (type == int.class || type == Integer.class) {
      return 1;
    }
    if (type == boolean.class || type == Boolean.class) {
      return true;
    }
    if (type == double.class || type == Double.class) {
      return 1.5;
    }
    if (type == BigDecimal.class) {
      return BigDecimal.ONE;
    }
    if (type == Instant.class) {
      return Instant.EPOCH;
    }
    if (type == LocalDate.class) {
      return LocalDate.EPOCH;
    }
    if (type == List.class) {
      Type item = ((ParameterizedType) component.getGenericType()).getActualTypeArguments()[0];
      return item == String.class ? List.of("x") : List.of(sample((Class<?>) item, full));
    }
    if (type == Map.class) {
      return Map.of("k", "v");
    }
    return sample(type, full);
  }
}
