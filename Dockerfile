# wndchrm-queue's Python images, one target each (beanstalkd's image is services/beanstalkd/Dockerfile).
# See docs/containers.md. From the repository root:
#
#   docker build --target worker -t wndchrm/worker .          # likewise submitter, monitor
#   docker build --target worker --build-arg BASE_IMAGE=registry.example/python:3.11 ...   # a site's own base
#   docker build --target worker --build-arg PIP_INDEX_ARGS=--no-index ...   # offline: wheels in build/wheels
#
# The base needs python3 (3.11+) with the venv module; python:3.11-slim-bookworm or Debian's python3-venv.
# Stages come in the order the targets need them, because the legacy builder builds every stage above its
# target: wheels, venv, runtime, submitter, monitor, then the worker's own worker-wheels, worker-venv, worker.
ARG BASE_IMAGE=python:3.11-slim-bookworm

# -- wheels: the project and the submitter's and monitor's dependencies -------------------------------------
# Dependencies come pinned and hash-checked from requirements/ (refreshed by scripts/lock.sh); the venvs
# install from these wheels only, so two builds a month apart hold the same packages. The project's wheel
# is built from pyproject.toml out of the source .dockerignore lets in: a new package needs no edit here.
FROM ${BASE_IMAGE} AS wheels
ARG PIP_INDEX_ARGS=""
# The project's wheel compiles one C module (wndchrm/features/exact/_exact.c: wndchrm's arithmetic to the bit
# for Haralick [16] and [17]): a C compiler, and Python's headers where the base's Python lacks them (Debian's
# own python3), come from apt on Debian bases; another base must bring its own. Only this stage has them.
# hadolint ignore=DL3008,SC2086
RUN need=""; \
    command -v cc >/dev/null || need="gcc libc6-dev"; \
    python3 -c "import os, sysconfig; raise SystemExit(not os.path.exists(os.path.join(sysconfig.get_paths()['include'], 'Python.h')))" \
        || need="$need python3-dev"; \
    if [ -n "$need" ] && command -v apt-get >/dev/null; then \
        apt-get update && apt-get install -y --no-install-recommends $need && rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /src
COPY . /src
# hadolint ignore=SC2086
RUN python3 -m venv /opt/build \
    && /opt/build/bin/pip wheel --no-cache-dir --disable-pip-version-check ${PIP_INDEX_ARGS} \
       --find-links /src/build/wheels --wheel-dir /wheels --require-hashes -r /src/requirements/base.txt \
    && /opt/build/bin/pip wheel --no-cache-dir --disable-pip-version-check ${PIP_INDEX_ARGS} \
       --find-links /src/build/wheels --wheel-dir /wheels --no-deps /src

# -- venv: the submitter's and the monitor's (the same packages), installed from those wheels only --------
FROM ${BASE_IMAGE} AS venv
COPY --from=wheels /wheels /wheels
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-index --find-links /wheels \
       wndchrm-queue \
    && /opt/venv/bin/pip uninstall -y --disable-pip-version-check pip setuptools \
    && find /opt/venv -depth -type d -name tests -path "*/site-packages/*" -exec rm -rf {} + \
    && /opt/venv/bin/python -c "import services.submitter.cli, services.monitor.cli"

# -- runtime: what the Python images share -------------------------------------------------------------------
# Read-only root filesystem: everything written goes to /tmp (tmpfs/emptyDir) or /data (the shared volume).
FROM ${BASE_IMAGE} AS runtime
RUN groupadd --system --gid 10001 wndchrm \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin wndchrm \
    && install -d -o 10001 -g 10001 -m 0775 /data
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp \
    BEANSTALKD_HOST=beanstalkd \
    BEANSTALKD_PORT=11300 \
    BEANSTALKD_TUBE=wndchrm

# == submitter: a one-shot `wndchrm-submit` (CI jobs, docker compose --profile submit) =========================
#   docker run --rm -v wndchrm-data:/data -e BEANSTALKD_HOST=beanstalkd wndchrm/submitter \
#       submit --wait --junit /data/out/junit.xml -- demo fanout 20 /data/out/x
# Exit codes: 0 all succeeded, 1 some failed, 2 usage/config error, 3 timed out, 4 beanstalkd unreachable.
# Job paths are checked against DATA_ROOT, so mount the data volume the workers use at the same path.
FROM runtime AS submitter
COPY --from=venv /opt/venv /opt/venv
ENV DATA_ROOT=/data
USER 10001:10001
WORKDIR /data
# A one-shot command, not a service: nothing to probe. Its exit code is its health.
HEALTHCHECK NONE
ENTRYPOINT ["wndchrm-submit"]
CMD ["--help"]

# == monitor: `wndchrm-monitor`, the queue's Prometheus exporter (/metrics, /healthz on 9310) ==================
#   docker run -e BEANSTALKD_HOST=beanstalkd -p 9310:9310 wndchrm/monitor
FROM runtime AS monitor
COPY --from=venv /opt/venv /opt/venv
ENV MONITOR_PORT=9310
USER 10001:10001
EXPOSE 9310
# /healthz is 200 whenever the exporter serves HTTP, also while beanstalkd is down: that is a metric
# (wndchrm_queue_beanstalkd_up) and an alert, not a reason to restart the monitor.
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('MONITOR_PORT', '9310'), timeout=4)"]
ENTRYPOINT ["wndchrm-monitor"]

# -- worker-wheels: the worker's lock (feature engine, images, reports, supervisord), all hash-checked ------
FROM wheels AS worker-wheels
ARG PIP_INDEX_ARGS=""
# hadolint ignore=SC2086
RUN /opt/build/bin/pip wheel --no-cache-dir --disable-pip-version-check ${PIP_INDEX_ARGS} \
       --find-links /wheels --find-links /src/build/wheels --wheel-dir /worker-wheels \
       --no-deps --require-hashes -r /src/requirements/worker.txt \
    && cp /wheels/wndchrm_queue-*.whl /worker-wheels/

# -- worker-venv: exactly those wheels, then trimmed of what running never reads ------------------------------
# strip (binutils) takes the debug information out of compiled extensions, about 90 MB (31 MB of it in
# libcharm); symbols stay, so backtraces still name functions. Debian bases get it from apt, the only network
# this stage uses; without it the image works and is only larger (scripts/containers-e2e.sh checks the size).
FROM ${BASE_IMAGE} AS worker-venv
# hadolint ignore=DL3008
RUN if ! command -v strip >/dev/null && command -v apt-get >/dev/null; then \
        { apt-get update && apt-get install -y --no-install-recommends binutils; } \
        || echo "binutils could not be installed: the worker's libraries keep their debug information" >&2; \
        rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=worker-wheels /worker-wheels /wheels
# --no-deps: worker.txt knowingly lacks what only CharmFeatures' batch tool needs (requirements/
# worker-overrides.txt), so pip check may report requirements of CharmFeatures as missing, and nothing else.
# Then out go pip, setuptools, tests, C/C++/Cython sources, headers and static libraries (build inputs), the
# C++ source tree CharmFeatures ships and the batch tool's command. The .pyc files stay: on a read-only root
# nothing could write them, and without them each worker process would compile numpy, scipy and matplotlib
# again (3 s instead of 1 s to load the engine).
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-index --no-deps /wheels/*.whl \
    && { /opt/venv/bin/pip check --disable-pip-version-check >/tmp/pip-check.txt || true; } \
    && if grep -v -E -e "^charmfeatures [^ ]+ requires [^ ]+, which is not installed\.$" \
            -e "^No broken requirements found\.$" /tmp/pip-check.txt; then exit 1; fi \
    && /opt/venv/bin/pip uninstall -y --disable-pip-version-check pip setuptools \
    && site=$(/opt/venv/bin/python -c "import sysconfig; print(sysconfig.get_path('purelib'))") \
    && find "$site" -depth -type d -name tests -exec rm -rf {} + \
    && find "$site" -type f \( -name "*.[ch]" -o -name "*.[ch]pp" -o -name "*.pyx" -o -name "*.pxd" \
            -o -name "*.a" \) -delete \
    && rm -rf "$site/libcharm/src" /opt/venv/bin/charm-image-features \
    && if command -v strip >/dev/null; then \
        find "$site" -type f -name "*.so*" -exec sh -c 'for lib; do \
            if readelf -S "$lib" | grep -q "\.debug_info"; then strip --strip-debug "$lib"; fi; done' sh {} +; \
    fi
# What the trimming must not break: every module of the engine and of the job kinds imports, libcharm
# computes features, an LZW TIFF reads back (imagecodecs) and the report's PNG charts draw (matplotlib, Pillow).
RUN /opt/venv/bin/python -c "import importlib, io, pkgutil, numpy, imagecodecs, tifffile, matplotlib, CharmFeatures, \
supervisor, scipy.stats, scipy.special, scipy.ndimage, scipy.cluster.hierarchy, scipy.spatial.distance, \
services.worker.cli, services.kinds, wndchrm; \
[importlib.import_module(module.name) for package in (wndchrm, services.kinds) \
 for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.') if not module.name.endswith('__main__')]; \
matplotlib.use('Agg'); from matplotlib.figure import Figure; Figure().savefig(io.BytesIO(), format='png'); \
image = numpy.add.outer(numpy.arange(64), numpy.arange(48)).astype(numpy.uint16); tiff = io.BytesIO(); \
tifffile.imwrite(tiff, image, compression='lzw'); assert (tifffile.imread(io.BytesIO(tiff.getvalue())) == image).all(); \
charm = CharmFeatures.CharmFeatures(short=True, forking_executor=False, forking_gabor=False, forking_haralick=False, verbosity=0); \
assert numpy.isfinite(charm.get_features(image.astype(numpy.float64))).sum() > 1000"

# == worker: supervisord runs `wndchrm-worker`, whose pool forks one worker process per CPU the container ======
# may use (cgroup quota), with CharmFeatures for the wndchrm job kind.
FROM runtime AS worker
COPY --from=worker-venv /opt/venv /opt/venv
COPY services/worker/supervisord.conf /etc/wndchrm/supervisord.conf
COPY services/worker/entrypoint.sh /usr/local/bin/wndchrm-worker-entrypoint
ENV MPLCONFIGDIR=/tmp/matplotlib \
    PROMETHEUS_MULTIPROC_DIR=/tmp/metrics \
    METRICS_PORT=9311 \
    GRACE_PERIOD=25 \
    DATA_ROOT=/data
USER 10001:10001
WORKDIR /data
EXPOSE 9311
VOLUME ["/data"]
# The worker pool's parent serves /metrics for all its processes: it answers only while the pool is up.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/metrics' % os.environ.get('METRICS_PORT', '9311'), timeout=4)"]
ENTRYPOINT ["/usr/local/bin/wndchrm-worker-entrypoint"]
