#!/usr/bin/env bash
# Run the example end to end: build small labelled TIFF datasets (from images bundled in scikit-image
# and scikit-learn), start a private beanstalkd (with binlog) and a local worker pool, and submit one
# batch of two `wndchrm test` jobs. Each expands into one feature-extraction dependency per image, run on
# every worker; then each parent trains and tests a WND-5 classifier and writes its reports.
# Everything this starts stops when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/wndchrm-example.XXXXXX)
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/binlog" "$work/data"
export BEANSTALKD_PORT=$port DATA_ROOT=$work/data
echo "building the example datasets in $DATA_ROOT/ex"
.venv/bin/python -m testkit.example_data "$DATA_ROOT/ex" >/dev/null
beanstalkd -l 127.0.0.1 -p "$port" -b "$work/binlog" & bpid=$!
.venv/bin/wndchrm-worker --log "$work/worker.log" & wpid=$!
trap 'kill $wpid 2>/dev/null; wait $wpid 2>/dev/null; kill $bpid 2>/dev/null; echo "worker log: $work/worker.log"' EXIT
sleep 1
echo "beanstalkd on 127.0.0.1:$port; worker pool: $(.venv/bin/python -c 'from depqueue import allowed_cpus; print(allowed_cpus())') processes"
cat > "$work/batch.txt" <<BATCH
wndchrm test -l -n5 ex/textures reports/textures.html
wndchrm test -l -n5 ex/digits reports/digits.html
BATCH
.venv/bin/wndchrm-submit --wait --junit "$work/junit.xml" --batch-file "$work/batch.txt"
for set in textures digits; do
  .venv/bin/python - "$DATA_ROOT/reports/$set" <<'PY'
import json, sys
report = json.load(open(sys.argv[1] + ".json"))
print(f"{sys.argv[1].rsplit('/', 1)[1]}: average accuracy {report['average_accuracy']:.3f} over "
      f"{len(report['splits'])} splits; HTML report: {sys.argv[1]}.html")
PY
done
echo "JUnit: $work/junit.xml"
