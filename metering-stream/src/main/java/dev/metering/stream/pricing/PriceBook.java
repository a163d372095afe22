package dev.metering.stream.pricing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Per-model token prices with effective dates, and a fallback for models it does not list.
 * Loaded once at start-up from the bundled {@code pricing.json} or a file named in config.
 */
public final class PriceBook {

  /** The price of one call's model on its day, and whether it came from the fallback. */
  public record Quote(TokenPrices prices, boolean fallback) {
  }

  private static final long DAY_MILLIS = 86_400_000L;
  private static final int MAX_CACHED_MODEL_IDS = 10_000;

  private final TokenPrices fallback;
  /** model id -> (first epoch day in force -> prices) */
  private final Map<String, NavigableMap<Long, TokenPrices>> models;
  /** Model ids seen in events -> the listed id they resolve to ("" for none); saves a prefix search per event. */
  private final Map<String, String> resolved = new ConcurrentHashMap<>();

  public PriceBook(TokenPrices fallback, Map<String, NavigableMap<Long, TokenPrices>> models) {
    this.fallback = Objects.requireNonNull(fallback, "fallback");
    Map<String, NavigableMap<Long, TokenPrices>> copy = new HashMap<>();
    models.forEach((model, byDay) -> {
      if (byDay.isEmpty()) {
        throw new IllegalArgumentException("model " + model + " lists no prices");
      }
      copy.put(model, new TreeMap<>(byDay));
    });
    this.models = Map.copyOf(copy);
  }

  /** The bundled price list. */
  public static PriceBook bundled() {
    try (InputStream in = PriceBook.class.getResourceAsStream("/pricing.json")) {
      if (in == null) {
        throw new IllegalStateException("pricing.json missing from the classpath");
      }
      return parse(new ObjectMapper().readTree(in), "bundled pricing.json");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read bundled pricing.json", e);
    }
  }

  /** A price list from a JSON file of the bundled file's shape. */
  public static PriceBook load(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return parse(new ObjectMapper().readTree(in), file.toString());
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read pricing file " + file + ": " + e.getMessage(), e);
    }
  }

  static PriceBook parse(JsonNode root, String source) {
    try {
      TokenPrices fallback = prices(required(root, "fallback", source), source + " fallback");
      Map<String, NavigableMap<Long, TokenPrices>> models = new HashMap<>();
      Iterator<Map.Entry<String, JsonNode>> fields = required(root, "models", source).fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> model = fields.next();
        NavigableMap<Long, TokenPrices> byDay = new TreeMap<>();
        for (JsonNode entry : model.getValue()) {
          String where = source + " model " + model.getKey();
          LocalDate from = LocalDate.parse(required(entry, "effective_from", where).asText());
          if (byDay.put(from.toEpochDay(), prices(entry, where)) != null) {
            throw new IllegalArgumentException(where + " lists " + from + " twice");
          }
        }
        models.put(model.getKey(), byDay);
      }
      return new PriceBook(fallback, models);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException(source + ": effective_from must be yyyy-MM-dd: " + e.getMessage(), e);
    }
  }

  /** The prices for {@code model} on the UTC day of {@code eventTimeMillis}. */
  public Quote quote(String model, long eventTimeMillis) {
    String listed = resolved.get(model);
    if (listed == null) {
      listed = longestListedPrefix(model);
      // Bounded, so a gateway sending made-up model ids cannot grow it without limit.
      if (resolved.size() < MAX_CACHED_MODEL_IDS) {
        resolved.put(model, listed);
      }
    }
    if (listed.isEmpty()) {
      return new Quote(fallback, true);
    }
    Map.Entry<Long, TokenPrices> inForce = models.get(listed).floorEntry(Math.floorDiv(eventTimeMillis, DAY_MILLIS));
    // A call dated before the model's first listed price is priced by its earliest price.
    return new Quote(inForce != null ? inForce.getValue() : models.get(listed).firstEntry().getValue(), false);
  }

  private String longestListedPrefix(String model) {
    String best = "";
    for (String listed : models.keySet()) {
      boolean matches = model.equals(listed)
          || (model.startsWith(listed) && model.charAt(listed.length()) == '-');
      if (matches && listed.length() > best.length()) {
        best = listed;
      }
    }
    return best;
  }

  private static TokenPrices prices(JsonNode node, String where) {
    return new TokenPrices(
        micros(required(node, "input", where), where),
        micros(required(node, "output", where), where),
        micros(required(node, "cache_creation", where), where),
        micros(required(node, "cache_read", where), where));
  }

  /** Dollars per million tokens, as written, to integer micro-dollars per million tokens. */
  private static long micros(JsonNode dollars, String where) {
    try {
      return new BigDecimal(dollars.asText()).movePointRight(6).longValueExact();
    } catch (ArithmeticException | NumberFormatException e) {
      throw new IllegalArgumentException(where + ": price '" + dollars.asText()
          + "' must be dollars per million tokens with at most 6 decimals", e);
    }
  }

  private static JsonNode required(JsonNode node, String field, String where) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      throw new IllegalArgumentException(where + ": missing field " + field);
    }
    return value;
  }
}
