package dev.metering.stream.query;

/** One instance's part of a fanned-out query, with what it read (null if it did not say). */
record Part<T>(T body, LocalQueries.Coverage coverage) {
}
