package dev.metering.gateway;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The usage events a reporter has queued and the brokers have not yet acknowledged, kept in files
 * so that a gateway process that dies (kill -9, out of memory, a crash) does not take the usage of
 * the calls it served with it: the next reporter on the same directory sends them again. Every
 * event is written before it is handed to the producer, with one write call, so it is in the
 * operating system's hands before the call is served (a process crash keeps it; a crash of the
 * machine keeps what the system had written out). An event the producer refused at once (the call
 * is refused, not served) gets a cancel record after it and is never sent again.
 *
 * <p>Files are segments, written one after another; a segment is deleted once every event in it
 * is settled (acknowledged, or given up and counted as failed) and every older segment is gone,
 * so a cancel record is never deleted before the event it takes back. Sending again is
 * at-least-once: the settled events of a segment a crash left are sent too, and metering-stream
 * drops them by their event ids (its dedup window, 7 days, is longer than the late grace, after
 * which they would only be dead-lettered as late). One reporter at a time owns a directory.
 */
final class UsageSpool implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(UsageSpool.class);

  /** A segment is closed and a new one begun once it holds this much. */
  static final long SEGMENT_BYTES = 4L * 1024 * 1024;
  private static final String PREFIX = "usage-";
  private static final String SUFFIX = ".spool";
  private static final byte EVENT = 1;
  private static final byte CANCEL = 2;
  /** Payload length, CRC-32 of kind and payload, kind. */
  private static final int HEADER_BYTES = 4 + 4 + 1;
  /** Far above any event's size (usage-events takes records of up to 1 MiB). */
  private static final int MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;

  /** An event read back from a segment that an earlier reporter left. */
  record Spooled(String eventId, String key, byte[] value) {
  }

  /** One event written to a segment: settle it once the brokers have answered for it. */
  static final class Entry {
    private final Segment segment;
    private final AtomicBoolean settled = new AtomicBoolean();

    private Entry(Segment segment) {
      this.segment = segment;
    }
  }

  private static final class Segment {
    private final Path path;
    private final FileChannel channel;
    private long bytes;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong settled = new AtomicLong();
    private volatile boolean closed;

    private Segment(Path path) throws IOException {
      this.path = path;
      this.channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    private boolean done() {
      return closed && settled.get() == written.get();
    }
  }

  private final Path dir;
  private final long segmentBytes;
  private final FileChannel lockFile;
  private final FileLock lock;
  private final List<Path> leftovers;
  /** Oldest first; the last is the one written to. */
  private final Deque<Segment> segments = new ArrayDeque<>();
  private long nextSequence;
  private boolean leftoversDeleted;

  private UsageSpool(Path dir, long segmentBytes, FileChannel lockFile, FileLock lock, List<Path> leftovers,
      long nextSequence) throws IOException {
    this.dir = dir;
    this.segmentBytes = segmentBytes;
    this.lockFile = lockFile;
    this.lock = lock;
    this.leftovers = leftovers;
    this.leftoversDeleted = leftovers.isEmpty();
    this.nextSequence = nextSequence;
    segments.add(newSegment());
  }

  /**
   * Opens {@code dir} (created if missing) for this process alone.
   *
   * @throws IllegalStateException if another reporter, in this process or another, holds it
   */
  static UsageSpool open(Path dir) throws IOException {
    return open(dir, SEGMENT_BYTES);
  }

  static UsageSpool open(Path dir, long segmentBytes) throws IOException {
    Files.createDirectories(dir);
    FileChannel lockFile = FileChannel.open(dir.resolve("spool.lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = lockFile.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      lockFile.close();
      throw new IllegalStateException("the usage spool " + dir + " is in use by another reporter; give each"
          + " gateway process a directory of its own");
    }
    List<Path> leftovers;
    try (Stream<Path> files = Files.list(dir)) {
      leftovers = files.filter(UsageSpool::isSegment).sorted().toList();
    }
    long next = leftovers.isEmpty() ? 0 : sequence(leftovers.get(leftovers.size() - 1)) + 1;
    return new UsageSpool(dir, segmentBytes, lockFile, lock, leftovers, next);
  }

  private static boolean isSegment(Path file) {
    String name = file.getFileName().toString();
    return name.startsWith(PREFIX) && name.endsWith(SUFFIX);
  }

  private static long sequence(Path segment) {
    String name = segment.getFileName().toString();
    return Long.parseLong(name.substring(PREFIX.length(), name.length() - SUFFIX.length()));
  }

  private Segment newSegment() throws IOException {
    // zero-padded, so the names sort in the order they were written
    return new Segment(dir.resolve(String.format("%s%019d%s", PREFIX, nextSequence++, SUFFIX)));
  }

  /**
   * The events the segments found at {@link #open} hold and no cancel record took back, oldest
   * first, each once. A record cut short (the write the crash interrupted) or damaged ends its
   * segment's reading, with a warning.
   */
  List<Spooled> leftovers() throws IOException {
    Map<String, Spooled> events = new LinkedHashMap<>();
    for (Path segment : leftovers) {
      ByteBuffer buffer = ByteBuffer.wrap(Files.readAllBytes(segment));
      while (buffer.hasRemaining()) {
        int start = buffer.position();
        Record record = next(buffer);
        if (record == null) {
          log.warn("ignoring the last {} bytes of the usage spool {}: a record cut short or damaged",
              buffer.limit() - start, segment);
          break;
        }
        ByteBuffer fields = ByteBuffer.wrap(record.payload());
        if (record.kind() == EVENT) {
          String eventId = string(fields);
          String key = string(fields);
          byte[] value = new byte[fields.remaining()];
          fields.get(value);
          events.putIfAbsent(eventId, new Spooled(eventId, key, value));
        } else {
          events.remove(new String(record.payload(), StandardCharsets.UTF_8));
        }
      }
    }
    return List.copyOf(events.values());
  }

  private record Record(byte kind, byte[] payload) {
  }

  /** The record at the buffer's position, moving past it, or null if it is not whole and intact. */
  private static Record next(ByteBuffer buffer) {
    if (buffer.remaining() < HEADER_BYTES) {
      return null;
    }
    int length = buffer.getInt();
    int crc = buffer.getInt();
    byte kind = buffer.get();
    if (length < 0 || length > MAX_PAYLOAD_BYTES || length > buffer.remaining() || (kind != EVENT && kind != CANCEL)) {
      return null;
    }
    // the checksum covers the kind and the payload, which follow each other
    boolean intact = crc == checksum(buffer.array(), buffer.arrayOffset() + buffer.position() - 1, length + 1);
    byte[] payload = new byte[length];
    buffer.get(payload);
    return intact ? new Record(kind, payload) : null;
  }

  /** Deletes the segments found at {@link #open}, once what {@link #leftovers} gave is settled. */
  synchronized void leftoversSettled() throws IOException {
    for (Path segment : leftovers) {
      Files.deleteIfExists(segment);
    }
    leftoversDeleted = true;
  }

  /** Writes an event before it is sent. */
  synchronized Entry append(String eventId, String key, byte[] value) throws IOException {
    byte[] id = eventId.getBytes(StandardCharsets.UTF_8);
    byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
    ByteBuffer record = record(2 + id.length + 2 + keyBytes.length + value.length);
    record.putShort((short) id.length).put(id).putShort((short) keyBytes.length).put(keyBytes).put(value);
    Segment segment = write(EVENT, record);
    segment.written.incrementAndGet();
    return new Entry(segment);
  }

  /** Takes back an event the producer refused at once: it is settled, and never sent again. */
  synchronized void cancel(Entry entry, String eventId) throws IOException {
    byte[] id = eventId.getBytes(StandardCharsets.UTF_8);
    write(CANCEL, record(id.length).put(id));
    settle(entry);
  }

  /** The brokers acknowledged the event, or the reporter gave it up (and counted it as failed). */
  void settle(Entry entry) {
    if (entry.settled.compareAndSet(false, true)) {
      entry.segment.settled.incrementAndGet();
      if (entry.segment.closed) {
        synchronized (this) {
          deleteSettled();
        }
      }
    }
  }

  /** A record's buffer, positioned for its payload after the header {@link #write} fills in. */
  private static ByteBuffer record(int payloadLength) {
    return ByteBuffer.allocate(HEADER_BYTES + payloadLength).position(HEADER_BYTES);
  }

  /** Writes a record whose payload fills {@code record} past its header, in one buffer, copied once. */
  private Segment write(byte kind, ByteBuffer record) throws IOException {
    Segment segment = segments.getLast();
    if (segment.bytes >= segmentBytes) {
      segment.channel.close();
      segment.closed = true;
      segment = newSegment();
      segments.add(segment);
      deleteSettled();
    }
    int length = record.capacity() - HEADER_BYTES;
    record.put(HEADER_BYTES - 1, kind).putInt(0, length)
        .putInt(4, checksum(record.array(), HEADER_BYTES - 1, length + 1)).position(0);
    try {
      while (record.hasRemaining()) {
        segment.channel.write(record);
      }
    } catch (IOException e) {
      // a full disk can leave part of the record written: whatever follows goes to a new segment, since
      // reading a segment stops at a broken record and would miss the records after it
      segment.bytes = Long.MAX_VALUE;
      throw e;
    }
    segment.bytes += record.capacity();
    return segment;
  }

  /** Deletes the oldest segments while they are closed and settled. */
  private void deleteSettled() {
    while (segments.size() > 1 && segments.getFirst().done()) {
      Path path = segments.removeFirst().path;
      try {
        Files.deleteIfExists(path);
      } catch (IOException e) {
        // runs in the producer's callbacks, which must go on: the segment is sent again at the next start
        log.error("cannot delete the settled usage spool segment {}: {}", path, e.getMessage());
      }
    }
  }

  /** Segment files on disk now, for tests and logs. */
  synchronized List<Path> files() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(UsageSpool::isSegment).sorted().toList();
    }
  }

  /**
   * Releases the directory. The segments this spool wrote are deleted if everything in them was
   * settled, and kept whole otherwise, for the next reporter to send; so are the leftovers until
   * {@link #leftoversSettled}.
   */
  @Override
  public synchronized void close() throws IOException {
    long unsettled = 0;
    for (Segment segment : segments) {
      segment.channel.close();
      segment.closed = true;
      unsettled += segment.written.get() - segment.settled.get();
    }
    if (unsettled == 0) {
      for (Segment segment : segments) {
        Files.deleteIfExists(segment.path);
      }
      segments.clear();
    } else {
      log.warn("{} usage events not acknowledged stay in {} for the next reporter there to send", unsettled, dir);
    }
    if (!leftoversDeleted) {
      log.warn("the usage events an earlier reporter left in {} were not all settled; they stay for the next", dir);
    }
    lock.release();
    lockFile.close();
  }

  private static String string(ByteBuffer fields) {
    byte[] bytes = new byte[Short.toUnsignedInt(fields.getShort())];
    fields.get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static int checksum(byte[] bytes, int offset, int length) {
    CRC32 crc = new CRC32();
    crc.update(bytes, offset, length);
    return (int) crc.getValue();
  }
}
