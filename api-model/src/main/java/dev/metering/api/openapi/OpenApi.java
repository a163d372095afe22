package dev.metering.api.openapi;

import com.fasterxml.jackson.annotation.JsonClassDescription;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.metering.json.Json;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Builds the OpenAPI 3.0 document of an HTTP API from its operations, whose request and response
 * bodies are records of this module: the schemas are read from the records themselves (wire
 * names by {@link Json}'s naming, {@code @JsonInclude(NON_NULL)} components optional,
 * {@link Nullable}, {@link OneOf} and {@code @JsonPropertyDescription}), so the document
 * describes exactly what the server writes and the clients read.
 */
public final class OpenApi {

  private static final Pattern PATH_PARAM = Pattern.compile("\\{([^}]+)}");
  private static final String SCHEMAS = "#/components/schemas/";

  private OpenApi() {
  }

  /** The document's title, version, description and the server it describes. */
  public record Info(String title, String version, String description, String serverUrl, String serverDescription) {
  }

  /** A query parameter; {@code values}, when not empty, are the only ones accepted. */
  public record Parameter(String name, Class<?> type, boolean required, String description, List<String> values) {
    public Parameter {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(description, "description");
      values = List.copyOf(values);
    }

    public static Parameter optional(String name, Class<?> type, String description, String... values) {
      return new Parameter(name, type, false, description, List.of(values));
    }

    public static Parameter required(String name, Class<?> type, String description) {
      return new Parameter(name, type, true, description, List.of());
    }
  }

  /**
   * One endpoint. Path parameters are the names in braces of {@code path}; {@code request} is the
   * body's record (or null), {@code response} the body answered with each of {@code statuses},
   * {@code errors} the error statuses it may answer with the document's error body.
   */
  public record Operation(String method, String path, String operationId, String summary, String tag,
      List<Parameter> parameters, Class<?> request, List<Integer> statuses, Class<?> response, List<Integer> errors,
      String security) {
    public Operation {
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(operationId, "operationId");
      Objects.requireNonNull(summary, "summary");
      Objects.requireNonNull(tag, "tag");
      parameters = List.copyOf(parameters);
      statuses = List.copyOf(statuses);
      Objects.requireNonNull(response, "response");
      errors = List.copyOf(errors);
      Objects.requireNonNull(security, "security");
    }

    /** Path parameters, in order: the names in braces. */
    public List<String> pathParams() {
      return PATH_PARAM.matcher(path).results().map(m -> m.group(1)).toList();
    }
  }

  /**
   * The document; {@code securitySchemes} are named as the operations' {@code security} name
   * them, {@code errorBody} is the record every error answer carries.
   */
  public static Map<String, Object> document(Info info, Map<String, Map<String, Object>> securitySchemes,
      Class<?> errorBody, List<Operation> operations) {
    Components schemas = new Components();
    Map<String, Object> paths = new LinkedHashMap<>();
    for (Operation op : operations) {
      if (!securitySchemes.containsKey(op.security())) {
        throw new IllegalArgumentException(op.operationId() + " names an unknown security scheme " + op.security());
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> path = (Map<String, Object>) paths.computeIfAbsent(op.path(), p -> new LinkedHashMap<>());
      Map<String, Object> operation = new LinkedHashMap<>();
      operation.put("operationId", op.operationId());
      operation.put("summary", op.summary());
      operation.put("tags", List.of(op.tag()));
      operation.put("security", List.of(Map.of(op.security(), List.of())));
      List<Map<String, Object>> parameters = new ArrayList<>();
      for (String name : op.pathParams()) {
        parameters.add(parameter(name, "path", true, Map.of("type", "string"), "the " + name.replace('_', ' ')));
      }
      for (Parameter p : op.parameters()) {
        Map<String, Object> schema = new LinkedHashMap<>(schema(p.type(), schemas));
        if (!p.values().isEmpty()) {
          schema.put("enum", p.values());
        }
        parameters.add(parameter(p.name(), "query", p.required(), schema, p.description()));
      }
      if (!parameters.isEmpty()) {
        operation.put("parameters", parameters);
      }
      if (op.request() != null) {
        operation.put("requestBody", Map.of("required", true, "content", json(schema(op.request(), schemas))));
      }
      Map<String, Object> responses = new LinkedHashMap<>();
      for (int status : op.statuses()) {
        responses.put(Integer.toString(status), Map.of("description", describe(op.response()),
            "content", json(schema(op.response(), schemas))));
      }
      for (int status : op.errors()) {
        responses.put(Integer.toString(status), Map.of("$ref", "#/components/responses/Error"));
      }
      operation.put("responses", responses);
      if (path.put(op.method().toLowerCase(Locale.ROOT), operation) != null) {
        throw new IllegalArgumentException("two operations for " + op.method() + " " + op.path());
      }
    }
    List<String> ids = operations.stream().map(Operation::operationId).toList();
    if (ids.stream().distinct().count() != ids.size()) {
      throw new IllegalArgumentException("operation ids must be unique: " + ids);
    }
    Map<String, Object> errorSchema = schema(errorBody, schemas);
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("openapi", "3.0.3");
    doc.put("info", Map.of("title", info.title(), "version", info.version(), "description", info.description(),
        "license", Map.of("name", "Apache-2.0", "url", "https://www.apache.org/licenses/LICENSE-2.0")));
    doc.put("servers", List.of(Map.of("url", info.serverUrl(), "description", info.serverDescription())));
    doc.put("tags", operations.stream().map(Operation::tag).distinct()
        .map(tag -> Map.of("name", tag, "description", "the " + tag + " endpoints")).toList());
    doc.put("paths", paths);
    doc.put("components", Map.of(
        "securitySchemes", securitySchemes,
        "responses", Map.of("Error", Map.of("description", "an error; error.type says which, error.field names the"
            + " request's field or parameter at fault", "content", json(errorSchema))),
        "schemas", schemas.schemas));
    return doc;
  }

  private static Map<String, Object> parameter(String name, String in, boolean required, Map<String, Object> schema,
      String description) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("name", name);
    out.put("in", in);
    out.put("required", required);
    out.put("description", description);
    out.put("schema", schema);
    return out;
  }

  private static Map<String, Object> json(Map<String, Object> schema) {
    return Map.of("application/json", Map.of("schema", schema));
  }

  private static String describe(Class<?> type) {
    JsonClassDescription description = type.getAnnotation(JsonClassDescription.class);
    return description == null ? type.getSimpleName() : description.value();
  }

  /** The schema of {@code type}: inline for scalars and collections, a reference for records. */
  static Map<String, Object> schema(Type type, Components schemas) {
    if (type instanceof ParameterizedType parameterized) {
      Type raw = parameterized.getRawType();
      Type[] args = parameterized.getActualTypeArguments();
      if (raw == List.class) {
        return Map.of("type", "array", "items", schema(args[0], schemas));
      }
      if (raw == Map.class && args[0] == String.class) {
        return Map.of("type", "object", "additionalProperties", schema(args[1], schemas));
      }
      throw new IllegalArgumentException("no schema for " + type);
    }
    Class<?> c = (Class<?>) type;
    if (c == String.class) {
      return Map.of("type", "string");
    }
    if (c == long.class || c == Long.class) {
      return Map.of("type", "integer", "format", "int64");
    }
    if (c == int.class || c == Integer.class) {
      return Map.of("type", "integer", "format", "int32");
    }
    if (c == boolean.class || c == Boolean.class) {
      return Map.of("type", "boolean");
    }
    if (c == double.class || c == Double.class) {
      return Map.of("type", "number", "format", "double");
    }
    if (c == BigDecimal.class) {
      return Map.of("type", "number");
    }
    if (c == Instant.class) {
      return Map.of("type", "string", "format", "date-time");
    }
    if (c == LocalDate.class) {
      return Map.of("type", "string", "format", "date");
    }
    if (c.isRecord()) {
      String name = c.getSimpleName();
      Class<?> known = schemas.types.putIfAbsent(name, c);
      if (known == null) {
        schemas.schemas.put(name, recordSchema(c, schemas));
      } else if (known != c) {
        throw new IllegalArgumentException("two records named " + name + ": " + known.getName() + " and " + c.getName());
      }
      return Map.of("$ref", SCHEMAS + name);
    }
    throw new IllegalArgumentException("no schema for " + c.getName());
  }

  private static Map<String, Object> recordSchema(Class<?> record, Components schemas) {
    boolean classOmitsNulls = omitsNulls(record.getAnnotation(JsonInclude.class));
    Map<String, Object> properties = new LinkedHashMap<>();
    List<String> required = new ArrayList<>();
    for (RecordComponent component : record.getRecordComponents()) {
      String name = Json.wireName(component);
      Map<String, Object> property = new LinkedHashMap<>(schema(component.getGenericType(), schemas));
      JsonPropertyDescription description = component.getAccessor().getAnnotation(JsonPropertyDescription.class);
      OneOf oneOf = component.getAnnotation(OneOf.class);
      if (property.containsKey("$ref") && (description != null || component.isAnnotationPresent(Nullable.class))) {
        // OpenAPI 3.0 ignores siblings of $ref: wrap it
        property = new LinkedHashMap<>(Map.of("allOf", List.of(property)));
      }
      if (description != null) {
        property.put("description", description.value());
      }
      if (oneOf != null) {
        property.put("enum", List.of(oneOf.value()));
      }
      if (component.isAnnotationPresent(Nullable.class)) {
        property.put("nullable", true);
      }
      properties.put(name, property);
      JsonProperty declared = component.getAccessor().getAnnotation(JsonProperty.class);
      boolean omitted = classOmitsNulls || omitsNulls(component.getAccessor().getAnnotation(JsonInclude.class));
      if ((declared != null && declared.required()) || !omitted) {
        required.add(name);
      }
    }
    Map<String, Object> schema = new LinkedHashMap<>();
    schema.put("type", "object");
    JsonClassDescription description = record.getAnnotation(JsonClassDescription.class);
    if (description != null) {
      schema.put("description", description.value());
    }
    schema.put("properties", properties);
    if (!required.isEmpty()) {
      schema.put("required", required);
    }
    return schema;
  }

  /** The schemas of the records met so far, by simple name (unique within a document). */
  private static final class Components {
    final Map<String, Object> schemas = new TreeMap<>();
    final Map<String, Class<?>> types = new HashMap<>();
  }

  private static boolean omitsNulls(JsonInclude include) {
    return include != null && include.value() != JsonInclude.Include.ALWAYS
        && include.value() != JsonInclude.Include.USE_DEFAULTS;
  }
}
