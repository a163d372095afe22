package dev.metering.cli;

import dev.metering.api.Text;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.metering.json.Json;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Option;

/**
 * How a command prints what it got: {@code table} for people, {@code json} (the API's own field
 * names, pretty printed) and {@code csv} (every field, nested ones as {@code usage.total_tokens})
 * for scripts. A command hands over records; this class decides nothing about their content.
 */
final class Output {

  enum Format { table, json, csv }

  /** The {@code --output} option, mixed into every command that prints. */
  static final class Options {
    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
        description = "table, json or csv (default: ${DEFAULT-VALUE})")
    Format format;
  }

  /** Longest cell a table shows; json and csv always carry the whole value. */
  private static final int MAX_CELL = 60;
  private static final ObjectMapper JSON = Json.mapper();

  private final Format format;
  private final PrintWriter out;

  Output(Format format, PrintWriter out) {
    this.format = format;
    this.out = out;
  }

  Format format() {
    return format;
  }

  /** One record: as a two-column FIELD / VALUE table, or a JSON object, or a CSV header and row. */
  void one(Object value) {
    if (format == Format.json) {
      json(value);
      return;
    }
    Map<String, String> fields = flatten(JSON.valueToTree(value));
    if (format == Format.csv) {
      csv(List.of(fields), new ArrayList<>(fields.keySet()));
      return;
    }
    int width = fields.keySet().stream().mapToInt(String::length).max().orElse(0);
    fields.forEach((field, cell) -> out.println(pad(field.toUpperCase(java.util.Locale.ROOT), width) + "  " + cell));
    out.flush();
  }

  /**
   * Records as rows: a table of {@code columns} (every field when empty), a JSON array, or CSV
   * with every field any record has; with no records, the header of {@code columns} alone.
   */
  void many(Iterable<?> values, List<String> columns) {
    if (format == Format.json) {
      List<Object> all = new ArrayList<>();
      values.forEach(all::add);
      json(all);
      return;
    }
    List<Map<String, String>> rows = new ArrayList<>();
    for (Object value : values) {
      rows.add(flatten(JSON.valueToTree(value)));
    }
    List<String> every = rows.isEmpty() ? columns : union(rows);
    if (format == Format.csv) {
      csv(rows, every);
    } else if (!every.isEmpty()) {
      table(rows, columns.isEmpty() ? every : columns);
    }
  }

  /** One record of a stream that has no end (audit tail): a table line, a JSON line, or a CSV row. */
  void line(Object value, List<String> columns, boolean first) {
    if (format == Format.json) {
      try {
        out.println(JSON.writeValueAsString(value));
      } catch (JsonProcessingException e) {
        throw new UncheckedIOException(e);
      }
    } else {
      Map<String, String> row = flatten(JSON.valueToTree(value));
      if (first) {
        out.println(format == Format.csv ? csvLine(columns) : String.join("  ", columns).toUpperCase(java.util.Locale.ROOT));
      }
      List<String> cells = columns.stream().map(c -> row.getOrDefault(c, "")).toList();
      out.println(format == Format.csv ? csvLine(cells) : String.join("  ", cells.stream().map(Output::cut).toList()));
    }
    out.flush();
  }

  private void json(Object value) {
    try {
      out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
    out.flush();
  }

  private void table(List<Map<String, String>> rows, List<String> columns) {
    int[] widths = new int[columns.size()];
    for (int i = 0; i < columns.size(); i++) {
      widths[i] = columns.get(i).length();
      for (Map<String, String> row : rows) {
        widths[i] = Math.max(widths[i], cut(row.getOrDefault(columns.get(i), "")).length());
      }
    }
    StringBuilder header = new StringBuilder();
    for (int i = 0; i < columns.size(); i++) {
      header.append(pad(columns.get(i).toUpperCase(java.util.Locale.ROOT), i == columns.size() - 1 ? 0 : widths[i]))
          .append(i == columns.size() - 1 ? "" : "  ");
    }
    out.println(header.toString().stripTrailing());
    for (Map<String, String> row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns.size(); i++) {
        line.append(pad(cut(row.getOrDefault(columns.get(i), "")), i == columns.size() - 1 ? 0 : widths[i]))
            .append(i == columns.size() - 1 ? "" : "  ");
      }
      out.println(line.toString().stripTrailing());
    }
    out.flush();
  }

  private void csv(List<Map<String, String>> rows, List<String> columns) {
    out.println(csvLine(columns));
    for (Map<String, String> row : rows) {
      out.println(csvLine(columns.stream().map(c -> row.getOrDefault(c, "")).toList()));
    }
    out.flush();
  }

  private static List<String> union(List<Map<String, String>> rows) {
    Set<String> columns = new LinkedHashSet<>();
    rows.forEach(row -> columns.addAll(row.keySet()));
    return new ArrayList<>(columns);
  }

  /** A record's fields by dotted name; arrays of plain values joined by commas, nulls empty. */
  static Map<String, String> flatten(JsonNode node) {
    Map<String, String> fields = new LinkedHashMap<>();
    flatten("", node, fields);
    return fields;
  }

  private static void flatten(String prefix, JsonNode node, Map<String, String> fields) {
    if (node instanceof ObjectNode object) {
      for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> field = it.next();
        flatten(prefix.isEmpty() ? field.getKey() : prefix + "." + field.getKey(), field.getValue(), fields);
      }
    } else if (node.isArray()) {
      List<String> items = new ArrayList<>();
      node.forEach(item -> items.add(item.isValueNode() ? item.asText() : item.toString()));
      fields.put(prefix, String.join(",", items));
    } else {
      fields.put(prefix, node.isNull() ? "" : node.asText());
    }
  }

  /**
   * One CSV line (RFC 4180). A text cell that a spreadsheet would run as a formula (=, +, -, @)
   * gets a leading apostrophe, unless it is a number: names and descriptions are the tenants' text.
   */
  static String csvLine(List<String> cells) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      String cell = cells.get(i);
      if (!cell.isEmpty() && "=+-@\t\r".indexOf(cell.charAt(0)) >= 0 && !cell.matches("[-+]?[0-9.]+")) {
        cell = "'" + cell;
      }
      if (cell.contains(",") || cell.contains("\"") || cell.contains("\n") || cell.contains("\r")) {
        cell = "\"" + cell.replace("\"", "\"\"") + "\"";
      }
      line.append(i == 0 ? "" : ",").append(cell);
    }
    return line.toString();
  }

  /**
   * A table cell on one line, shortened, with control characters shown as escapes: a model name
   * or a dead letter's quoted value comes from a gateway's callers, and an escape sequence in it
   * must not reach the operator's terminal as one.
   */
  static String cut(String cell) {
    String oneLine = Text.escapeControls(cell.replace('\n', ' ').replace('\r', ' ').replace('\t', ' '));
    return oneLine.length() <= MAX_CELL ? oneLine : oneLine.substring(0, MAX_CELL - 3) + "...";
  }

  private static String pad(String text, int width) {
    return text.length() >= width ? text : text + " ".repeat(width - text.length());
  }
}
