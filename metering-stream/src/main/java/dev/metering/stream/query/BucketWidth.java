package dev.metering.stream.query;

import java.time.Duration;

/** Bucket widths of usage reports, with the longest range and the page size each allows. */
public enum BucketWidth {
  HOUR("1h", Duration.ofHours(1), Duration.ofDays(31), 168),
  DAY("1d", Duration.ofDays(1), Duration.ofDays(400), 31);

  private final String wire;
  private final Duration width;
  private final Duration maxRange;
  private final int maxPageBuckets;

  BucketWidth(String wire, Duration width, Duration maxRange, int maxPageBuckets) {
    this.wire = wire;
    this.width = width;
    this.maxRange = maxRange;
    this.maxPageBuckets = maxPageBuckets;
  }

  public long millis() {
    return width.toMillis();
  }

  public Duration maxRange() {
    return maxRange;
  }

  public int maxPageBuckets() {
    return maxPageBuckets;
  }

  public String wire() {
    return wire;
  }

  static BucketWidth parse(String value) {
    if (value == null || value.isBlank()) {
      return DAY;
    }
    for (BucketWidth width : values()) {
      if (width.wire.equals(value)) {
        return width;
      }
    }
    throw new BadRequestException("bucket_width", "bucket_width must be 1h or 1d, got '" + value + "'");
  }
}
