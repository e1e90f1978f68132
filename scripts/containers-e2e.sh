#!/usr/bin/env bash
# Container end-to-end stage: build the four images from nothing and run the compose stack for real.
#
#   sudo bash scripts/containers-e2e.sh        # from the repository root, on Debian bookworm, as root
#
# With no registry but Debian's and PyPI (no Docker Hub), it:
#  1. installs docker.io, docker-compose and debootstrap from apt;
#  2. starts its own dockerd (own data root, socket and exec root; no iptables) in the background;
#  3. builds a base image by debootstrap (Debian bookworm + python3-venv), cached as a tarball in
#     $WNDCHRM_CI_DIR/cache, and `docker import`s it as BASE_IMAGE;
#  4. builds wheels of the project and all its dependencies on the host into build/wheels, so the images
#     install from wheels with `pip --no-index` (the legacy builder, DOCKER_BUILDKIT=0);
#  5. builds beanstalkd (services/beanstalkd/Dockerfile) and the submitter, monitor and worker targets of
#     the Dockerfile, and fails if the worker image is not under 500 MB (WORKER_MAX_MB); starts
#     beanstalkd + 2 workers + monitor, runs the submitter on an example batch with --wait (exit 0
#     required), checks the monitor reports `wndchrm_queue_beanstalkd_up 1`, then scales the workers
#     2 -> 3 -> 1 while a batch of slow jobs runs and requires that batch to succeed too (no job lost);
#  6. cuts a worker container off the stack's network (docker network disconnect) for longer than the TTR
#     while it holds a dependency, then while it runs a parent, then for less than the TTR; each batch
#     must still succeed (exit 0), and the cut-off worker must reach beanstalkd again by itself;
#  7. tears everything down, also on failure, and stops its dockerd.
# If dockerd cannot start on this machine it prints `CONTAINER E2E SKIPPED: <reason>` and exits 0.
#
# Environment: WNDCHRM_CI_DIR (default /var/lib/wndchrm-ci: docker data root, rootfs cache),
# WNDCHRM_CI_KEEP_DOCKER=1 leaves dockerd and its data for a rerun (the layer cache makes it fast).
set -euo pipefail
cd "$(dirname "$0")/.."
started_at=$(date +%s)

CI_DIR=${WNDCHRM_CI_DIR:-/var/lib/wndchrm-ci}
RUN_DIR=/run/wndchrm-ci
DOCKERD_LOG=$CI_DIR/dockerd.log
BASE_TAR=$CI_DIR/cache/bookworm-python3.tar
BASE_IMAGE=wndchrm-base:bookworm
TAG=ci
PROJECT=wndchrm-ci
export DOCKER_HOST=unix://$RUN_DIR/docker.sock
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
export WNDCHRM_IMAGE_PREFIX=wndchrm WNDCHRM_TAG=$TAG
# Published ports of the stack, away from anything else on a shared CI machine.
export MONITOR_PUBLISH=127.0.0.1:29310
# The worker image stays under this (docs/containers.md says what takes its room).
WORKER_MAX_MB=500
COMPOSE=(docker-compose -p "$PROJECT" -f compose/docker-compose.yml -f compose/ci.override.yml)
SUBMIT=("${COMPOSE[@]}" --profile submit run --rm -T submitter submit)

log() { printf '\n=== [%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
skip() {
  printf '\n%s\n!!! CONTAINER E2E SKIPPED: %s\n%s\n\n' "$(printf '!%.0s' {1..78})" "$*" "$(printf '!%.0s' {1..78})"
  exit 0
}
fail() { printf '\n*** CONTAINER E2E FAILED: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (to install packages and run dockerd); run it with sudo"

# -- 1. tools ------------------------------------------------------------------------------------------------
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v docker-init >/dev/null || need+=(tini)  # compose `init: true`
python3 -c 'import ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" iproute2 ca-certificates >/dev/null
fi
command -v dockerd >/dev/null || skip "dockerd is not installed and apt-get could not install docker.io"

# -- 2. dockerd ----------------------------------------------------------------------------------------------
stop_dockerd() {
  local pid
  pid=$(cat "$RUN_DIR/dockerd.pid" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -f "$RUN_DIR/dockerd.pid"
  # dockerd leaves its data root bind-mounted onto itself, and a network namespace mount.
  if ! pgrep -f -- "--data-root $CI_DIR/docker" >/dev/null; then
    for mount in "$RUN_DIR/exec/netns/default" "$CI_DIR/docker"; do
      if mountpoint -q "$mount" 2>/dev/null; then umount "$mount" 2>/dev/null || umount -l "$mount" || true; fi
    done
  fi
}

cleanup() {
  local rc=$?
  set +e
  if [ "$rc" -ne 0 ] && docker info >/dev/null 2>&1; then
    log "failure (exit $rc): state and logs of the stack"
    "${COMPOSE[@]}" ps
    "${COMPOSE[@]}" logs --no-color --tail=80
  fi
  if docker info >/dev/null 2>&1; then
    log "tearing down the stack"
    "${COMPOSE[@]}" --profile submit down --volumes --remove-orphans --timeout 20 >/dev/null 2>&1
    # Images of earlier runs' builds: the tagged images and their layers stay as the next run's cache.
    docker image prune -f >/dev/null 2>&1
  fi
  [ -z "${secret_dir:-}" ] || rm -rf "$secret_dir"
  if [ "${WNDCHRM_CI_KEEP_DOCKER:-0}" != 1 ]; then
    log "stopping dockerd"
    stop_dockerd
  fi
  log "container e2e stage: exit $rc after $(( $(date +%s) - started_at )) s (wall time, teardown included)"
  exit "$rc"
}

mkdir -p "$CI_DIR/docker" "$CI_DIR/cache" "$RUN_DIR"
if ! docker info >/dev/null 2>&1; then
  stop_dockerd  # a dockerd of a previous run that no longer answers
  log "starting dockerd (data root $CI_DIR/docker, socket $RUN_DIR/docker.sock)"
  # No iptables: this machine may have no iptables modules, and the stack needs no NAT (its containers
  # talk to each other on one bridge; published ports go through docker-proxy).
  dockerd --data-root "$CI_DIR/docker" --exec-root "$RUN_DIR/exec" --pidfile "$RUN_DIR/dockerd.pid" \
    --host "$DOCKER_HOST" --iptables=false --ip-masq=false --userland-proxy=true \
    >"$DOCKERD_LOG" 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
if ! docker info >/dev/null 2>&1; then
  tail -n 20 "$DOCKERD_LOG" >&2 || true
  stop_dockerd
  skip "dockerd did not start on this machine (log: $DOCKERD_LOG)"
fi
trap cleanup EXIT
docker_version=$(docker version --format '{{.Server.Version}}')
log "dockerd $docker_version is up; $(docker-compose version --short 2>/dev/null || true)"

# -- 3. base image -------------------------------------------------------------------------------------------
if ! docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  if [ ! -s "$BASE_TAR" ]; then
    log "debootstrap of Debian bookworm with python3-venv (cached in $BASE_TAR)"
    rootfs=$(mktemp -d "$CI_DIR/rootfs.XXXXXX")
    # The host's own Debian mirror (it is the one reachable), else deb.debian.org.
    mirror=$({ cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null || true; } \
               | awk '/^URIs: *http/ {print $2; exit} /^deb http/ {print $2; exit}')
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$rootfs" \
      "${mirror:-http://deb.debian.org/debian}" >"$CI_DIR/debootstrap.log" 2>&1 \
      || { tail -n 20 "$CI_DIR/debootstrap.log" >&2; fail "debootstrap failed"; }
    # What an image never needs: downloaded packages, package lists, documentation, translations.
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/* \
           "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/*
    find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
    tar --numeric-owner -C "$rootfs" -cf "$BASE_TAR.tmp" .
    mv "$BASE_TAR.tmp" "$BASE_TAR"
    rm -rf "$rootfs"
  fi
  log "importing $BASE_TAR as $BASE_IMAGE"
  docker import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' "$BASE_TAR" "$BASE_IMAGE" >/dev/null
fi

# -- 4. wheels -----------------------------------------------------------------------------------------------
log "building wheels of the project and its dependencies into build/wheels"
if [ -x .venv/bin/pip ]; then
  pip=.venv/bin/pip
else
  [ -x "$CI_DIR/venv/bin/pip" ] || python3 -m venv "$CI_DIR/venv"
  pip=$CI_DIR/venv/bin/pip
fi
rm -f build/wheels/wndchrm_queue-*.whl
# The worker's lock (hash-checked; it holds the submitter's and monitor's), then the project's build
# tools; each from the wheels of an earlier run if they are the locked ones, else from the index.
wheels() {
  "$pip" wheel -q --disable-pip-version-check --wheel-dir build/wheels --no-deps "$@" --no-index \
      --find-links build/wheels >/dev/null 2>&1 \
    || "$pip" wheel -q --disable-pip-version-check --wheel-dir build/wheels --no-deps "$@" \
      2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}
wheels --require-hashes -r requirements/worker.txt
wheels "setuptools>=77" wheel

# -- 5. images -----------------------------------------------------------------------------------------------
# The Python images are targets of one Dockerfile, in the order its stages come (the legacy builder builds
# every stage above a target): the worker's build reuses the others' stages.
# Host network: beanstalkd's package and the worker's build tools (binutils) come from Debian's apt, which
# only the host network reaches (no NAT without iptables); pip is offline (--no-index).
for service in beanstalkd submitter monitor worker; do
  log "building wndchrm/$service:$TAG"
  t0=$(date +%s)
  args=(--network host --build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "PIP_INDEX_ARGS=--no-index")
  if [ "$service" = beanstalkd ]; then
    args+=(-f services/beanstalkd/Dockerfile)
  else
    args+=(-f Dockerfile --target "$service")
  fi
  if ! out=$(docker build -q "${args[@]}" -t "wndchrm/$service:$TAG" . 2>&1); then
    echo "$out" >&2
    fail "docker build of $service failed"
  fi
  echo "built in $(( $(date +%s) - t0 )) s"
done
worker_mb=$(( $(docker image inspect --format '{{.Size}}' "wndchrm/worker:$TAG") / 1000000 ))
echo "worker image: $worker_mb MB"
[ "$worker_mb" -lt "$WORKER_MAX_MB" ] \
  || fail "the worker image is $worker_mb MB, not under $WORKER_MAX_MB MB (docs/containers.md: what takes its room)"

# -- 6. the stack --------------------------------------------------------------------------------------------
# Jobs are signed as shipped (docs/security.md): a fresh secret for this run, readable by the containers.
secret_dir=$(mktemp -d "$CI_DIR/secret.XXXXXX")
head -c 32 /dev/urandom | base64 >"$secret_dir/job-secret"
chmod 0755 "$secret_dir" && chmod 0644 "$secret_dir/job-secret"
export WNDCHRM_JOB_SECRET_FILE=$secret_dir/job-secret
"${COMPOSE[@]}" --profile submit down --volumes --remove-orphans >/dev/null 2>&1 || true
log "starting beanstalkd, monitor and 2 workers"
"${COMPOSE[@]}" up -d --no-build --scale worker=2 beanstalkd worker monitor

wait_healthy() {  # every running container of the project healthy, within $1 seconds
  local deadline=$(( $(date +%s) + $1 )) states
  while :; do
    states=$(docker ps --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Names}} {{.Status}}')
    if ! grep -qv '(healthy)' <<<"$states"; then echo "$states"; return 0; fi
    [ "$(date +%s)" -lt "$deadline" ] || { echo "$states" >&2; return 1; }
    sleep 2
  done
}
wait_healthy 120 || fail "the stack did not become healthy"

# The example batch: a demo fan-out and, when the host can make the example images (its .venv has the
# project's test dependencies), a real WND-CHARM experiment on them (features by CharmFeatures).
batch_file=/data/ci/batch.txt
examples=$(mktemp -d "$CI_DIR/examples.XXXXXX")
echo "demo fanout 20 /data/out/ci/example" >"$examples/batch.txt"
if [ "${WNDCHRM_E2E_KIND:-wndchrm}" = wndchrm ] && [ -x .venv/bin/python ] \
    && .venv/bin/python -m testkit.example_data "$examples/ex" --per-class 6 >/dev/null; then
  echo "wndchrm test -n2 /data/ex/textures /data/out/ci/textures.html" >>"$examples/batch.txt"
else
  echo "(no example images: the batch runs demo jobs only)"
fi
chmod -R a+rX "$examples"
docker run --rm -v "${PROJECT}_data:/data" -v "$examples:/src:ro" --entrypoint sh "wndchrm/submitter:$TAG" \
  -c 'mkdir -p /data/ci && cp -r /src/. /data/ && mv /data/batch.txt /data/ci/batch.txt'
rm -rf "$examples"
log "example batch (submitter container, --wait): $(docker run --rm -v "${PROJECT}_data:/data:ro" \
  --entrypoint cat "wndchrm/submitter:$TAG" "$batch_file" | paste -sd ';')"
rc=0
"${SUBMIT[@]}" --wait --timeout 600 --no-progress --batch ci-example --junit /data/out/ci/example-junit.xml \
  --batch-file "$batch_file" || rc=$?
[ "$rc" -eq 0 ] || fail "the example batch exited $rc (0 expected)"
docker run --rm -v "${PROJECT}_data:/data:ro" --entrypoint sh "wndchrm/submitter:$TAG" -c '
  test -s /data/out/ci/example/result.txt && test -s /data/out/ci/example-junit.xml &&
  if grep -q "^wndchrm " /data/ci/batch.txt; then test -s /data/out/ci/textures.html; fi' \
  || fail "the example batch's outputs or its JUnit report are missing"

log "monitor /metrics"
metrics=$("${COMPOSE[@]}" exec -T monitor python3 -c \
  "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9310/metrics', timeout=10).read().decode())")
grep -E '^wndchrm_queue_(beanstalkd_up|workers|depth) ' <<<"$metrics"
grep -qx 'wndchrm_queue_beanstalkd_up 1.0\|wndchrm_queue_beanstalkd_up 1' <<<"$metrics" \
  || fail "the monitor does not report wndchrm_queue_beanstalkd_up 1"
worker_metrics=$(docker exec "${PROJECT}_worker_1" python3 -c \
  "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9311/metrics', timeout=10).read().decode())")
grep -E '^wndchrm_worker_(processes|jobs_total)' <<<"$worker_metrics" | head -n 5 \
  || fail "a worker serves no wndchrm_worker_* metrics"

log "slow batch (demo fanout 16 --sleep 6) while workers scale 2 -> 3 -> 1"
"${SUBMIT[@]}" --wait --timeout 600 --no-progress --batch ci-scale --junit /data/out/ci/scale-junit.xml \
  -- demo fanout 16 /data/out/ci/scale --sleep 6 &
submit_pid=$!
sleep 8
"${COMPOSE[@]}" up -d --no-build --no-deps --no-recreate --scale worker=3 worker
sleep 12
log "scaling down to 1 worker while jobs run (SIGTERM: drain, hand back)"
"${COMPOSE[@]}" logs -f --no-color worker >"$CI_DIR/worker-scale.log" 2>&1 &
logs_pid=$!
t0=$(date +%s)
"${COMPOSE[@]}" up -d --no-build --no-deps --no-recreate --scale worker=1 worker
echo "2 workers stopped in $(( $(date +%s) - t0 )) s"
rc=0
wait "$submit_pid" || rc=$?
kill "$logs_pid" 2>/dev/null || true
echo "jobs handed back by stopping workers: $(grep -c 'handed back' "$CI_DIR/worker-scale.log" || true)"
[ "$rc" -eq 0 ] || fail "the batch run across scaling exited $rc (0 expected): a job was lost or failed"
starts=$(docker run --rm -v "${PROJECT}_data:/data:ro" --entrypoint cat "wndchrm/submitter:$TAG" \
           /data/out/ci/scale/parent-starts.log | wc -l)
echo "parent started $starts time(s)"
[ "$starts" -ge 1 ] || fail "the parent of the scaled batch never ran"

# -- 7. partitions -------------------------------------------------------------------------------------------
# A worker container cut off from the stack's network (Docker's own network commands) while it holds a
# dependency or runs a parent, longer than the TTR, then reconnected; then a cut shorter than the TTR.
network=${PROJECT}_default
"${COMPOSE[@]}" up -d --no-build --no-deps --no-recreate --scale worker=2 worker
wait_healthy 120 || fail "the workers did not become healthy again"
cut_off=$(docker ps --filter "label=com.docker.compose.project=$PROJECT" \
            --filter "label=com.docker.compose.service=worker" --format '{{.Names}}' | sort | head -n 1)
partition() {  # partition SECONDS BATCH TTR ARGV...: cut $cut_off for SECONDS while BATCH runs; exit 0 needed
  local seconds=$1 batch=$2 ttr=$3 rc=0 t0 ready
  shift 3
  "${SUBMIT[@]}" --wait --timeout 600 --no-progress --batch "$batch" --ttr "$ttr" -- "$@" &
  local submit_pid=$!
  sleep 8  # both workers hold jobs of the batch
  log "partition: $cut_off cut off for ${seconds}s (ttr ${ttr}s) during batch $batch"
  docker network disconnect "$network" "$cut_off"
  sleep "$seconds"
  docker network connect --alias worker "$network" "$cut_off"
  t0=$(date +%s)
  ready=0
  for _ in $(seq 1 120); do  # recovered: the cut-off worker's pool talks to beanstalkd again
    if docker exec "$cut_off" python3 -c "
import greenstalk; c = greenstalk.Client(('beanstalkd', 11300)); s = c.stats()
raise SystemExit(0 if s['current-workers'] >= 2 else 1)" >/dev/null 2>&1; then ready=1; break; fi
    sleep 1
  done
  echo "partitioned worker reachable again after $(( $(date +%s) - t0 )) s (ready=$ready)"
  wait "$submit_pid" || rc=$?
  [ "$rc" -eq 0 ] || fail "batch $batch across a ${seconds}s partition exited $rc (0 expected)"
}
partition 30 ci-cut-dep 10 demo fanout 8 /data/out/ci/cut-dep --sleep 6
partition 30 ci-cut-parent 10 demo fanout 1 /data/out/ci/cut-parent --run-sleep 20
partition 4 ci-cut-short 20 demo fanout 6 /data/out/ci/cut-short --sleep 6
for batch in cut-dep cut-parent cut-short; do
  echo "$batch: parent started $(docker run --rm -v "${PROJECT}_data:/data:ro" --entrypoint cat \
    "wndchrm/submitter:$TAG" "/data/out/ci/$batch/parent-starts.log" | wc -l) time(s)"
done
docker logs "$cut_off" 2>&1 | grep -E "reconnecting|no longer held|handed back" | tail -n 5 || true

# -- 8. report -----------------------------------------------------------------------------------------------
log "CONTAINER E2E PASSED in $(( $(date +%s) - started_at )) s"
docker images --format '{{.Repository}}:{{.Tag}}  {{.Size}}' | grep -E "^wndchrm/.*:$TAG " | sort
