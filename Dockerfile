# The phoenix_assets image. One image, several roles:
#   - the user-code gRPC server (the default command, port 4000);
#   - the run worker that DockerRunLauncher / K8sRunLauncher start for each run
#     (`dagster api execute_run ...`, issued by the launcher);
#   - dagster-webserver and dagster-daemon, so a compose stack needs no other image.
# No secret is baked in: MONGODB_URI and every other setting come from the environment
# at run time (see deploy/docker/.env.prod.example).
#
#   docker build -t phoenix-assets .
#   docker run --rm -e MONGODB_URI=... -p 4000:4000 phoenix-assets

ARG PYTHON_IMAGE=python:3.11-slim

# ---------------------------------------------------------------- builder: the virtualenv
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=python3.11

RUN pip install "uv>=0.8,<1"

WORKDIR /app
# The dependencies first: a layer that changes only with uv.lock (test suites of the
# installed packages are dropped: nothing imports them).
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --extra deploy --no-install-project \
 && find /app/.venv -type d -name tests -path '*/site-packages/*' -prune -exec rm -rf {} +
# Then the project, installed editable: its pyproject.toml stays beside the package,
# where Dagster's defs loader looks for it.
COPY phoenix_assets ./phoenix_assets
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --extra deploy \
 && /app/.venv/bin/python -m compileall -q phoenix_assets \
 && /app/.venv/bin/python -c "import phoenix_assets.definitions, dagster_docker, dagster_postgres, dagster_k8s"

# ---------------------------------------------------------------- runtime
FROM ${PYTHON_IMAGE}

# A fixed, non-root uid/gid (Kubernetes' runAsNonRoot checks a numeric USER).
RUN groupadd --system --gid 10001 dagster \
 && useradd --system --uid 10001 --gid 10001 --home-dir /opt/dagster --no-create-home \
        --shell /usr/sbin/nologin dagster \
 && mkdir -p /opt/dagster/dagster_home/storage /opt/dagster/reports \
 && chown -R 10001:10001 /opt/dagster

# The virtualenv, then the project: two layers, so a change to the code alone rebuilds
# and ships only the small one. Owned by root: the running user reads, never writes.
COPY --from=builder /app/.venv /app/.venv
COPY --from=builder /app/pyproject.toml /app/uv.lock /app/README.md /app/
COPY --from=builder /app/phoenix_assets /app/phoenix_assets

ENV PATH=/app/.venv/bin:$PATH \
    VIRTUAL_ENV=/app/.venv \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    PHOENIX_REPORTS_DIR=/opt/dagster/reports \
    MPLCONFIGDIR=/tmp/matplotlib \
    DAGSTER_GRPC_HOST=0.0.0.0 \
    DAGSTER_GRPC_PORT=4000

WORKDIR /app
USER 10001:10001

EXPOSE 4000
# Healthy = the gRPC server answers on $DAGSTER_GRPC_PORT. (Compose overrides this for
# the webserver and the daemon; the run launcher turns it off for run workers.)
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["sh", "-c", "exec dagster api grpc-health-check -p \"$DAGSTER_GRPC_PORT\""]

# The user-code gRPC server: `dagster api grpc -h 0.0.0.0 -p 4000 -m phoenix_assets.definitions`
# (host and port from DAGSTER_GRPC_HOST / DAGSTER_GRPC_PORT, which dagster reads).
CMD ["dagster", "api", "grpc", "-m", "phoenix_assets.definitions"]
