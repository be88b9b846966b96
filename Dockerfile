# syntax=docker/dockerfile:1
# SPM API image: `spm-api serve` by default; `spm-api db upgrade` runs the migrations.
#
#   docker build -t spm-api .
#   docker build --build-arg PLUGINS="supermajority market_rate" --build-arg EXTRAS="postgres,otel" .
#
# PLUGINS: directories under plugins/ to install beside the API (space-separated; empty
# for none). EXTRAS: the optional dependencies of spm-api (pyproject.toml) to install.

# --- build: every wheel the image needs, compiled here if no wheel is published -----
FROM python:3.11-slim AS build

ARG PLUGINS="finance_approval http_contractor market_rate prometheus_source supermajority"
ARG EXTRAS="postgres"

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# A compiler only for dependencies without a published wheel for this platform; the
# runtime stage never sees it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /src
COPY pyproject.toml README.md ./
COPY spm_api/ ./spm_api/
COPY plugins/ ./plugins/

# A plugin name that is not a directory with a pyproject.toml fails the build here.
RUN set -euf; \
    requirements=".[${EXTRAS}]"; \
    for plugin in ${PLUGINS}; do \
        test -f "plugins/${plugin}/pyproject.toml" \
            || { echo "PLUGINS: no plugin at plugins/${plugin}" >&2; exit 1; }; \
        requirements="${requirements} ./plugins/${plugin}"; \
    done; \
    pip wheel --wheel-dir /wheels ${requirements}

# --- runtime: the wheels installed into a slim image, run as an unprivileged user ---
FROM python:3.11-slim AS runtime

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SPM_ALEMBIC_DIR=/app/alembic

# Unprivileged user that runs the server; numeric, so `runAsNonRoot` can verify it.
RUN groupadd --system --gid 10001 spm \
    && useradd --system --uid 10001 --gid spm --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin spm

# Only the wheels built above (no index, no cache); the wheels themselves stay out of
# the image's layers.
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index /wheels/*.whl

WORKDIR /app

# Migration scripts stay owned by root (read-only for the app user).
COPY alembic.ini ./
COPY alembic/ ./alembic/
# The working directory is the user's: the default SQLite database (./spm.db) lives here.
RUN chown spm:spm /app

USER 10001:10001

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]

CMD ["spm-api", "serve", "--host", "0.0.0.0", "--port", "8000"]
