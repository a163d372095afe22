package dev.metering.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The figures of one benchmark run: printed as a table and written as JSON and CSV. */
final class Results {

  record Row(String section, String metric, double value, String unit, String note) {
  }

  private final List<Row> rows = new ArrayList<>();

  void add(String section, String metric, double value, String unit, String note) {
    rows.add(new Row(section, metric, value, unit, note));
    System.out.printf(Locale.ROOT, "  %-12s %-58s %14s %-8s %s%n", section, metric, format(value), unit, note);
  }

  void print(String header) {
    System.out.println();
    System.out.println(header);
    System.out.printf(Locale.ROOT, "| %s | %s | %s | %s |%n", "section", "metric", "value", "note");
    System.out.println("|---|---|---:|---|");
    for (Row row : rows) {
      System.out.printf(Locale.ROOT, "| %s | %s | %s %s | %s |%n", row.section(), row.metric(), format(row.value()),
          row.unit(), row.note());
    }
  }

  void write(Path dir, String name, String header) {
    try {
      Files.createDirectories(dir);
      StringBuilder csv = new StringBuilder("section,metric,value,unit,note\n");
      StringBuilder json = new StringBuilder("{\n  \"run\": \"" + escape(header) + "\",\n  \"results\": [\n");
      for (int i = 0; i < rows.size(); i++) {
        Row row = rows.get(i);
        csv.append(String.format(Locale.ROOT, "%s,\"%s\",%s,%s,\"%s\"%n", row.section(), row.metric(), row.value(),
            row.unit(), row.note().replace("\"", "'")));
        json.append(String.format(Locale.ROOT,
            "    {\"section\": \"%s\", \"metric\": \"%s\", \"value\": %s, \"unit\": \"%s\", \"note\": \"%s\"}%s%n",
            escape(row.section()), escape(row.metric()), row.value(), escape(row.unit()), escape(row.note()),
            i < rows.size() - 1 ? "," : ""));
      }
      json.append("  ]\n}\n");
      Files.writeString(dir.resolve(name + ".csv"), csv);
      Files.writeString(dir.resolve(name + ".json"), json);
      System.out.println("written " + dir.resolve(name + ".json") + " and .csv");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String format(double value) {
    return Math.abs(value - Math.rint(value)) < 1e-9 && Math.abs(value) < 1e15
        ? String.format(Locale.ROOT, "%,d", (long) value)
        : Math.abs(value) < 0.1 ? String.format(Locale.ROOT, "%.4f", value) : String.format(Locale.ROOT, "%,.2f", value);
  }

  private static String escape(String text) {
    return text.replace("\\", "\\\\").replace("\"", "\\\"");
  }
}
