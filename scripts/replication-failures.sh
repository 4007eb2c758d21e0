#!/usr/bin/env bash
# The replication test of NATS server failures (tests/replication_cluster_test.cpp,
# ReplicationCluster.NatsServerFailures): a SIGKILLed server and its rejoin, every server stopped
# and back. Not in the README's test command: Debian 12's nats-server 2.9.10 does not always
# recover a stream after its servers are killed (docs/REPLICATION.md). Runs it ROUNDS times (3)
# and prints how many passed. Build first (scripts/build.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
passed=0
for ((i = 1; i <= rounds; i++)); do
  if build/tests/replication_cluster_test --gtest_filter=ReplicationCluster.NatsServerFailures \
      > "/tmp/replication-failures-$i.log" 2>&1; then
    passed=$((passed + 1))
  else
    echo "round $i failed: /tmp/replication-failures-$i.log"
  fi
done
echo "NatsServerFailures: $passed of $rounds passed"
[ "$passed" = "$rounds" ]
