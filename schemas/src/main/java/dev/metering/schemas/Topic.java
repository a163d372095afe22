package dev.metering.schemas;

import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;

/** A topic of the design contract with the serdes of its keys and values. */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde) {

  public Topic {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(keySerde, "keySerde");
    Objects.requireNonNull(valueSerde, "valueSerde");
  }

  /** The bytes of {@code value} as this topic's records carry them (null stays null: a tombstone). */
  public byte[] encode(V value) {
    return valueSerde.serializer().serialize(name, value);
  }

  /**
   * The value a record of this topic carries (null for a tombstone).
   *
   * @throws org.apache.kafka.common.errors.SerializationException when the bytes do not decode
   */
  public V decode(byte[] bytes) {
    return valueSerde.deserializer().deserialize(name, bytes);
  }

  @Override
  public String toString() {
    return name;
  }
}
