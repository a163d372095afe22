package dev.metering.schemas;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Objects;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;
import org.apache.avro.specific.SpecificData;
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
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T>, Serializer<T>, Deserializer<T> {

  private final Class<T> type;
  private final BinaryMessageEncoder<T> encoder;
  private final BinaryMessageDecoder<T> decoder;

  AvroSerde(Class<T> type, Schema schema, SchemaHistory history) {
    this.type = Objects.requireNonNull(type, "type");
    SpecificData model = SpecificData.getForClass(type);
    this.encoder = new BinaryMessageEncoder<>(model, schema);
    this.decoder = new BinaryMessageDecoder<>(model, schema, Objects.requireNonNull(history, "history"));
  }

  @Override
  public byte[] serialize(String topic, T data) {
    if (data == null) {
      return null;
    }
    try {
      ByteBuffer buffer = encoder.encode(data);
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
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
    ByteArrayInputStream in = new ByteArrayInputStream(bytes);
    T record;
    try {
      record = decoder.decode(in, null);
    } catch (MissingSchemaException e) {
      throw new SerializationException(
          "unknown schema fingerprint reading " + type.getSimpleName() + " from topic " + topic
              + ": the writer used a schema version this reader does not know (" + e.getMessage() + ")", e);
    } catch (BadHeaderException e) {
      throw new SerializationException(
          "corrupt bytes reading " + type.getSimpleName() + " from topic " + topic
              + ": not Avro single-object encoding (" + e.getMessage() + ")", e);
    } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | NegativeArraySizeException e) {
      throw new SerializationException(
          "corrupt bytes reading " + type.getSimpleName() + " from topic " + topic
              + ": the body does not match its schema (" + e + ")", e);
    }
    if (in.available() > 0) {
      throw new SerializationException(
          "corrupt bytes reading " + type.getSimpleName() + " from topic " + topic + ": "
              + in.available() + " trailing bytes after the record");
    }
    return record;
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
