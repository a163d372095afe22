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

  @Override
  public String toString() {
    return name;
  }
}
