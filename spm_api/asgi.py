"""ASGI entry point for uvicorn and other servers: ``spm_api.asgi:app``."""

from spm_api.app import create_app

app = create_app()
