"""ASGI entry point for uvicorn and other servers: ``spm_api.asgi:app``."""

from spm_api.app import create_app
from spm_api.settings import get_settings
from spm_api.web import collector

app = create_app()
collector.tune(get_settings().gc_threshold)  # once the schema and plugins are built
