#!/usr/bin/env bash
# Runs the benchmark harness (see README, "Benchmarks"): ./bench.sh [--quick] [--events=N] [--keys=N] [--partitions=N]
set -euo pipefail
cd "$(dirname "$0")"
./mvnw -q -B install -DskipTests
exec ./mvnw -q -B -pl bench exec:exec -Dbench.args="$*"
