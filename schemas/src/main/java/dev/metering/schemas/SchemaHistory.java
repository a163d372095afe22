package dev.metering.schemas;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.SchemaStore;

/** Every released version of every record schema, found by its single-object-encoding fingerprint. */
public final class SchemaHistory implements SchemaStore {

  private static final String HISTORY_DIR = "/dev/metering/schemas/history/";
  private static final SchemaHistory INSTANCE = load(Records.CURRENT_SCHEMAS);

  private final Map<Long, Schema> byFingerprint;

  private SchemaHistory(Map<Long, Schema> byFingerprint) {
    this.byFingerprint = Collections.unmodifiableMap(byFingerprint);
  }

  /** The history shipped in this module: the current schemas plus every file listed in history/index.txt. */
  public static SchemaHistory released() {
    return INSTANCE;
  }

  static SchemaHistory load(List<Schema> current) {
    Map<Long, Schema> schemas = new LinkedHashMap<>();
    for (Schema schema : current) {
      schemas.put(SchemaNormalization.parsingFingerprint64(schema), schema);
    }
    for (String file : historyFiles()) {
      Schema schema = parse(file);
      schemas.putIfAbsent(SchemaNormalization.parsingFingerprint64(schema), schema);
    }
    return new SchemaHistory(schemas);
  }

  @Override
  public Schema findByFingerprint(long fingerprint) {
    return byFingerprint.get(fingerprint);
  }

  /** All known versions of the record with this full name, oldest first as listed. */
  public List<Schema> versionsOf(String fullName) {
    Objects.requireNonNull(fullName, "fullName");
    List<Schema> versions = new ArrayList<>();
    for (Schema schema : byFingerprint.values()) {
      if (schema.getFullName().equals(fullName)) {
        versions.add(schema);
      }
    }
    return versions;
  }

  private static List<String> historyFiles() {
    List<String> files = new ArrayList<>();
    try (BufferedReader reader = new BufferedReader(
        new InputStreamReader(resource("index.txt"), StandardCharsets.UTF_8))) {
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        String trimmed = line.strip();
        if (!trimmed.isEmpty() && !trimmed.startsWith("#")) {
          files.add(trimmed);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the schema history index", e);
    }
    return files;
  }

  private static Schema parse(String file) {
    try (InputStream in = resource(file)) {
      return new Schema.Parser().parse(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read schema history file " + file, e);
    }
  }

  private static InputStream resource(String file) {
    InputStream in = SchemaHistory.class.getResourceAsStream(HISTORY_DIR + file);
    if (in == null) {
      throw new IllegalStateException("schema history file missing from the classpath: " + HISTORY_DIR + file);
    }
    return in;
  }
}
