package dev.metering.stream.query;

import com.fasterxml.jackson.core.SerializableString;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A JSON array whose elements are already rendered to UTF-8: bytes {@code from} to {@code to} of a
 * larger piece of JSON (elements separated by commas) between brackets, written as they are where a
 * value goes (wrap it in Jackson's {@code RawValue}). Lets a cached day's results be copied into a
 * response without being parsed or turned into characters. Only the unquoted forms make sense for a
 * JSON value.
 */
final class RawJson implements SerializableString {

  private final byte[] utf8;
  private final int from;
  private final int to;

  RawJson(byte[] utf8, int from, int to) {
    this.utf8 = utf8;
    this.from = from;
    this.to = to;
  }

  private int length() {
    return to - from + 2;
  }

  @Override
  public String getValue() {
    return new String(asUnquotedUTF8(), StandardCharsets.UTF_8);
  }

  @Override
  public int charLength() {
    return getValue().length();
  }

  @Override
  public byte[] asUnquotedUTF8() {
    byte[] array = new byte[length()];
    appendUnquotedUTF8(array, 0);
    return array;
  }

  @Override
  public int appendUnquotedUTF8(byte[] buffer, int offset) {
    if (length() > buffer.length - offset) {
      return -1;
    }
    buffer[offset] = '[';
    System.arraycopy(utf8, from, buffer, offset + 1, to - from);
    buffer[offset + length() - 1] = ']';
    return length();
  }

  @Override
  public int appendUnquoted(char[] buffer, int offset) {
    String value = getValue();
    if (value.length() > buffer.length - offset) {
      return -1;
    }
    value.getChars(0, value.length(), buffer, offset);
    return value.length();
  }

  @Override
  public int writeUnquotedUTF8(OutputStream out) throws IOException {
    out.write('[');
    out.write(utf8, from, to - from);
    out.write(']');
    return length();
  }

  @Override
  public int putUnquotedUTF8(ByteBuffer buffer) {
    if (length() > buffer.remaining()) {
      return -1;
    }
    buffer.put((byte) '[').put(utf8, from, to - from).put((byte) ']');
    return length();
  }

  @Override
  public char[] asQuotedChars() {
    throw quoted();
  }

  @Override
  public byte[] asQuotedUTF8() {
    throw quoted();
  }

  @Override
  public int appendQuotedUTF8(byte[] buffer, int offset) {
    throw quoted();
  }

  @Override
  public int appendQuoted(char[] buffer, int offset) {
    throw quoted();
  }

  @Override
  public int writeQuotedUTF8(OutputStream out) {
    throw quoted();
  }

  @Override
  public int putQuotedUTF8(ByteBuffer buffer) {
    throw quoted();
  }

  @Override
  public String toString() {
    return getValue();
  }

  private static UnsupportedOperationException quoted() {
    return new UnsupportedOperationException("raw JSON is a value, never a quoted string");
  }
}
