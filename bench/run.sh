#!/usr/bin/env bash
# Rollout benchmark: shardschema run --workers 8 against 8 and 1 plain JDBC connections, on one MariaDB server
# started for the purpose (under target/bench-server, wiped at the start of every run). See bench/README.md.
#
#   bench/run.sh                 # sizes 1000 and 10000 (the 10000 round takes a long while on 2 cores)
#   bench/run.sh 1000            # one quick size
#   bench/run.sh --warmup 0 500  # no warm-up round; --keep leaves the schemas in place
#   bench/run.sh online [--rows N] [--rounds R]   # the online (pt-osc) benchmark instead
#   bench/run.sh dashboard [SHARDS]               # serve's endpoints at 10000 (or SHARDS) shards against 100
#   bench/run.sh validate [SHARDS]                # schema validate over 1000 (or SHARDS) shards against a script
set -euo pipefail
cd "$(dirname "$0")/.."

main=io.shardschema.bench.RolloutBenchmark
if [ "${1:-}" = online ]; then
    shift
    main=io.shardschema.bench.OnlineBenchmark
    scripts/install-tool pt-online-schema-change percona-toolkit
elif [ "${1:-}" = dashboard ]; then
    shift
    main=io.shardschema.bench.DashboardBenchmark
elif [ "${1:-}" = validate ]; then
    shift
    main=io.shardschema.bench.ValidateBenchmark
else
    [ $# -gt 0 ] || set -- 1000 10000
fi

mvn -q test-compile
cp_file=target/bench-classpath.txt
mvn -q dependency:build-classpath -Dmdep.outputFile="$cp_file" -Dmdep.includeScope=test >/dev/null
# Run from a private copy of the compiled classes, so that a rebuild in the same tree during a long run cannot
# pull classes from under it.
snapshot=target/bench-classes
rm -rf "$snapshot" && mkdir -p "$snapshot"
cp -r target/classes "$snapshot/main" && cp -r target/test-classes "$snapshot/test"
exec java ${BENCH_JAVA_OPTS:--Xmx2g} -DSHARDSCHEMA_LOG_LEVEL="${SHARDSCHEMA_LOG_LEVEL:-WARN}" \
    -cp "$snapshot/test:$snapshot/main:$(cat "$cp_file")" \
    "$main" "$@"
