#!/bin/sh
# Entrypoint of the worker image: size the pool from the container's CPU limit, wipe the metrics
# directory of a previous run, then run supervisord in the foreground (it runs the pool, see
# supervisord.conf). Arguments, if any, are run instead (`docker run IMAGE wndchrm-worker --help`).
set -eu

# One worker process per core the container may use: the cgroup quota (docker --cpus, Kubernetes
# limits.cpu) rounded up, not the host's core count. NUM_WORKERS set by the site wins.
if [ -z "${NUM_WORKERS:-}" ]; then
    NUM_WORKERS=$(python3 -c "from depqueue.cpus import allowed_cpus; print(allowed_cpus())")
fi
export NUM_WORKERS

# Multiprocess metrics: files of a previous run of this container would resurrect old counts and dead
# processes' gauges. Only *.db files go: the directory may be a mounted emptyDir that must stay.
PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-/tmp/metrics}
export PROMETHEUS_MULTIPROC_DIR
mkdir -p "$PROMETHEUS_MULTIPROC_DIR" "${MPLCONFIGDIR:-/tmp/matplotlib}"
find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -type f -delete

# On SIGTERM the pool lets running jobs go on for GRACE_PERIOD seconds, then gives its processes 10 s more
# to hand their jobs back before it kills them. supervisord must wait longer than that before SIGKILL.
GRACE_PERIOD=${GRACE_PERIOD:-25}
export GRACE_PERIOD
STOP_WAIT_SECS=$(python3 -c "import math, sys; print(math.ceil(float(sys.argv[1])) + 20)" "$GRACE_PERIOD")
export STOP_WAIT_SECS
export METRICS_PORT="${METRICS_PORT:-9311}"

echo "wndchrm-worker-entrypoint: $NUM_WORKERS worker processes, grace ${GRACE_PERIOD}s," \
     "supervisord stop wait ${STOP_WAIT_SECS}s, metrics :$METRICS_PORT" >&2

if [ "$#" -gt 0 ]; then
    exec "$@"
fi
exec supervisord --nodaemon --configuration /etc/wndchrm/supervisord.conf
