# syntax=docker/dockerfile:1
# SPM API image: `spm-api serve` by default; `spm-api db upgrade` runs the migrations.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SPM_ALEMBIC_DIR=/app/alembic

# Unprivileged user that runs the server.
RUN groupadd --system spm \
    && useradd --system --gid spm --home-dir /app --no-create-home --shell /usr/sbin/nologin spm

WORKDIR /app

# Source and migration scripts stay owned by root (read-only for the app user).
COPY pyproject.toml README.md alembic.ini ./
COPY spm_api/ ./spm_api/
COPY alembic/ ./alembic/
COPY plugins/ ./plugins/

RUN pip install --no-cache-dir ".[postgres]" \
    && chown spm:spm /app

USER spm

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]

CMD ["spm-api", "serve", "--host", "0.0.0.0", "--port", "8000"]
