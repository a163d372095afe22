package dev.metering.admin.http;

import dev.metering.api.Dollars;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.metering.json.Json;
import dev.metering.schemas.UsageLimits;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/** A JSON request body with getters that answer 400 naming the field when it is missing or wrong. */
public final class Body {

  private static final Pattern EMAIL = Pattern.compile("[^@\\s]{1,64}@[^@\\s]+\\.[^@\\s]{2,}");

  private final JsonNode json;

  private Body(JsonNode json) {
    this.json = json;
  }

  /** Parses {@code text} as a body of {@code type}: a JSON object holding only fields of it. */
  public static Body parse(ObjectMapper mapper, String text, Class<? extends Record> type) {
    Set<String> allowed = Json.fieldNames(type);
    JsonNode json = text == null || text.isBlank() ? mapper.createObjectNode() : readTree(mapper, text);
    if (!json.isObject()) {
      throw ApiError.invalid(null, "the request body must be a JSON object");
    }
    json.fieldNames().forEachRemaining(name -> {
      if (!allowed.contains(name)) {
        throw ApiError.invalid(name, "unknown field " + name + "; allowed: " + allowed);
      }
    });
    return new Body(json);
  }

  /**
   * {@code text} as JSON, or 400 saying where and why it is not (a field named twice in an object
   * is refused too, see {@link Json}).
   */
  public static JsonNode readTree(ObjectMapper mapper, String text) {
    try {
      return mapper.readTree(text);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      throw ApiError.invalid(null, "the request body is not valid JSON: " + e.getOriginalMessage()
          + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"));
    }
  }

  public boolean has(String field) {
    return json.has(field);
  }

  public String string(String field, boolean required, int maxLength) {
    JsonNode node = json.get(field);
    if (node == null || node.isNull()) {
      if (required) {
        throw ApiError.invalid(field, field + " is required");
      }
      return null;
    }
    if (!node.isTextual() || node.asText().isBlank()) {
      throw ApiError.invalid(field, field + " must be a non-empty string");
    }
    if (node.asText().length() > maxLength) {
      throw ApiError.invalid(field, field + " must be at most " + maxLength + " characters");
    }
    UsageLimits.BadCharacters bad = UsageLimits.badCharacters(node.asText());
    if (bad != null) {
      // a NUL, line break or terminal escape in a name would travel on into tables, CSV and logs;
      // a lone surrogate would be stored as '?'
      throw ApiError.invalid(field, bad.problem(field));
    }
    return node.asText().strip();
  }

  public String email(String field, boolean required) {
    String value = string(field, required, 254);
    if (value != null && !isEmail(value)) {
      throw ApiError.invalid(field, field + " must be an email address");
    }
    return value;
  }

  public static boolean isEmail(String value) {
    return value.length() <= 254 && EMAIL.matcher(value).matches();
  }

  public String url(String field) {
    String value = string(field, false, 2048);
    if (value != null) {
      try {
        java.net.URI uri = java.net.URI.create(value);
        if (!("https".equals(uri.getScheme()) || "http".equals(uri.getScheme())) || uri.getHost() == null) {
          throw ApiError.invalid(field, field + " must be an http or https URL");
        }
      } catch (IllegalArgumentException e) {
        throw ApiError.invalid(field, field + " must be an http or https URL");
      }
    }
    return value;
  }

  /** A whole number from 1 to {@code max}, or null when absent or null. */
  public Long positiveLong(String field, long max) {
    JsonNode node = json.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.canConvertToLong() || !node.isIntegralNumber() || node.asLong() <= 0 || node.asLong() > max) {
      throw ApiError.invalid(field, field + " must be a whole number from 1 to " + max + ", or null for none");
    }
    return node.asLong();
  }

  /**
   * Dollars written as a decimal string ("12.50"), in micro-dollars from 1 to {@code maxMicros};
   * null when absent or null. A JSON number is refused: it could not say 0.1 exactly.
   */
  public Long dollars(String field, long maxMicros) {
    JsonNode node = json.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    String message = field + " must be " + "a decimal string of dollars with at most six decimals, such as \"12.50\","
        + " from 0.000001 to " + Dollars.format(maxMicros) + ", or null for none";
    if (!node.isTextual()) {
      throw ApiError.invalid(field, message);
    }
    long micros;
    try {
      micros = Dollars.parse(node.asText());
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw ApiError.invalid(field, message);
    }
    if (micros <= 0 || micros > maxMicros) {
      throw ApiError.invalid(field, message);
    }
    return micros;
  }

  public int intInRange(String field, int min, int max) {
    JsonNode node = json.get(field);
    if (node == null || node.isNull()) {
      throw ApiError.invalid(field, field + " is required");
    }
    if (!node.isIntegralNumber() || !node.canConvertToLong() || node.asLong() < min || node.asLong() > max) {
      throw ApiError.invalid(field, field + " must be a whole number from " + min + " to " + max);
    }
    return node.asInt();
  }

  public long longAtLeast(String field, long min, long defaultValue) {
    JsonNode node = json.get(field);
    if (node == null || node.isNull()) {
      return defaultValue;
    }
    if (!node.isIntegralNumber() || !node.canConvertToLong() || node.asLong() < min) {
      throw ApiError.invalid(field, field + " must be a whole number of at least " + min);
    }
    return node.asLong();
  }

  public Boolean bool(String field) {
    JsonNode node = json.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isBoolean()) {
      throw ApiError.invalid(field, field + " must be true or false");
    }
    return node.asBoolean();
  }

  public List<String> strings(String field, Set<String> allowedValues) {
    JsonNode node = json.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isArray()) {
      throw ApiError.invalid(field, field + " must be an array of strings");
    }
    List<String> values = new ArrayList<>();
    for (JsonNode item : node) {
      if (!item.isTextual() || !allowedValues.contains(item.asText())) {
        throw ApiError.invalid(field, field + " may hold only " + allowedValues);
      }
      if (!values.contains(item.asText())) {
        values.add(item.asText());
      }
    }
    return values;
  }
}
