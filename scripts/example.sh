#!/usr/bin/env bash
# Run the example batch end to end: a private beanstalkd (with binlog), a local worker pool, and the
# submitter waiting for the outcome. Everything it starts stops when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/wndchrm-example.XXXXXX)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/binlog" "$work/data"
beanstalkd -l 127.0.0.1 -p "$port" -b "$work/binlog" & bpid=$!
export BEANSTALKD_PORT=$port DATA_ROOT=$work/data
.venv/bin/wndchrm-worker --log "$work/worker.log" & wpid=$!
trap 'kill $wpid 2>/dev/null; wait $wpid 2>/dev/null; kill $bpid 2>/dev/null; echo "worker log: $work/worker.log"' EXIT
sleep 1
echo "beanstalkd on 127.0.0.1:$port, data root $DATA_ROOT"
.venv/bin/wndchrm-submit --wait --junit "$work/junit.xml" -- demo fanout 200 "$DATA_ROOT/out/example"
echo "result: $(cat "$DATA_ROOT/out/example/result.txt"); JUnit report: $work/junit.xml"
