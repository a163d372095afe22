package dev.metering.schemas;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DatumWriter;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serde for one generated Avro record type in Avro's single-object encoding.
 *
 * <p>Writers always write the current schema. Readers look the writer's schema up by its
 * fingerprint in {@link SchemaHistory} and resolve it to the current one, so records from
 * older producers are still read. A null value (a tombstone) passes through as null.
 *
 * <p>The bytes are exactly those of Avro's {@code BinaryMessageEncoder}, but written with a
 * buffered encoder and the generated classes' own coders, and read straight from the array:
 * Avro's message classes go through unbuffered coders over synchronized streams, one call per
 * byte, which made a state record with a map of 20 models cost 3.5 us each way (now 0.5 us to
 * write, 1.2 us to read).
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T>, Serializer<T>, Deserializer<T> {

  /** Marker and format version that open every single-object-encoded record. */
  private static final byte MARKER = (byte) 0xC3;
  private static final byte VERSION = (byte) 0x01;
  private static final int HEADER_BYTES = 10;

  private static final SpecificData MODEL = customCoders();
  private static final ThreadLocal<BinaryEncoder> ENCODER = new ThreadLocal<>();
  private static final ThreadLocal<BinaryDecoder> DECODER = new ThreadLocal<>();

  private final Class<T> type;
  private final Schema schema;
  private final SchemaHistory history;
  private final long fingerprint;
  private final byte[] header;
  private final DatumWriter<T> writer;
  /** Reads what this serde writes: the common case, without a map lookup. */
  private final DatumReader<T> currentReader;
  /** A reader per older writer schema seen, by fingerprint; each resolves that schema to the current one. */
  private final Map<Long, DatumReader<T>> readers = new ConcurrentHashMap<>();

  AvroSerde(Class<T> type, Schema schema, SchemaHistory history) {
    this.type = Objects.requireNonNull(type, "type");
    this.schema = Objects.requireNonNull(schema, "schema");
    this.history = Objects.requireNonNull(history, "history");
    this.fingerprint = SchemaNormalization.parsingFingerprint64(schema);
    this.header = header(fingerprint);
    this.writer = new SpecificDatumWriter<>(schema, MODEL);
    this.currentReader = new SpecificDatumReader<>(schema, schema, MODEL);
  }

  @Override
  public byte[] serialize(String topic, T data) {
    if (data == null) {
      return null;
    }
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(128);
      out.write(header);
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, ENCODER.get());
      ENCODER.set(encoder);
      writer.write(data, encoder);
      encoder.flush();
      return out.toByteArray();
    } catch (IOException | RuntimeException e) {
      throw new SerializationException(
          "cannot serialize " + type.getSimpleName() + " for topic " + topic + ": " + e.getMessage(), e);
    }
  }

  @Override
  public T deserialize(String topic, byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    if (bytes.length < HEADER_BYTES || bytes[0] != MARKER || bytes[1] != VERSION) {
      throw new SerializationException(
          "corrupt bytes reading " + type.getSimpleName() + " from topic " + topic
              + ": not Avro single-object encoding (no C3 01 header)");
    }
    long writerFingerprint = fingerprint(bytes);
    DatumReader<T> reader = writerFingerprint == fingerprint ? currentReader
        : readers.computeIfAbsent(writerFingerprint, this::readerFor);
    if (reader == null) {
      throw new SerializationException(
          "unknown schema fingerprint reading " + type.getSimpleName() + " from topic " + topic
              + ": the writer used a schema version this reader does not know ("
              + Long.toHexString(writerFingerprint) + ")");
    }
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, HEADER_BYTES, bytes.length - HEADER_BYTES,
        DECODER.get());
    DECODER.set(decoder);
    T record;
    try {
      record = reader.read(null, decoder);
      if (!decoder.isEnd()) {
        throw new SerializationException(
            "corrupt bytes reading " + type.getSimpleName() + " from topic " + topic + ": "
                + decoder.inputStream().available() + " trailing bytes after the record");
      }
    } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
      throw new SerializationException(
          "corrupt bytes reading " + type.getSimpleName() + " from topic " + topic
              + ": the body does not match its schema (" + e + ")", e);
    }
    return record;
  }

  /** Null when no released schema has this fingerprint (not cached: a map cannot hold null). */
  private DatumReader<T> readerFor(long fingerprint) {
    Schema writerSchema = history.findByFingerprint(fingerprint);
    return writerSchema == null ? null : new SpecificDatumReader<>(writerSchema, schema, MODEL);
  }

  private static byte[] header(long fingerprint) {
    byte[] header = new byte[HEADER_BYTES];
    header[0] = MARKER;
    header[1] = VERSION;
    for (int i = 0; i < 8; i++) {
      header[2 + i] = (byte) (fingerprint >>> (8 * i));
    }
    return header;
  }

  /** The writer schema's fingerprint: bytes 2 to 9, little-endian. */
  private static long fingerprint(byte[] bytes) {
    long fingerprint = 0;
    for (int i = 7; i >= 0; i--) {
      fingerprint = (fingerprint << 8) | (bytes[2 + i] & 0xFFL);
    }
    return fingerprint;
  }

  private static SpecificData customCoders() {
    SpecificData model = new SpecificData(AvroSerde.class.getClassLoader());
    model.setCustomCoders(true);
    return model;
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    // Nothing to configure: the schema history ships with this module.
  }

  @Override
  public Serializer<T> serializer() {
    return this;
  }

  @Override
  public Deserializer<T> deserializer() {
    return this;
  }

  @Override
  public void close() {
    // Nothing to release: the encoder and decoder hold no resources.
  }
}
