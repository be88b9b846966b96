"""Shared by the project's tests and the example plugins' tests: a fixed key for the
contractor settings sealed at rest (``SPM_SECRET_KEYS``), unless one is set already."""

from __future__ import annotations

import os

#: A Fernet key for tests only.
TEST_SECRET_KEY = "Dq1D0BMGRIPqXGE3v7NsylWyzbrydf63KAXjP-AMD1E="

os.environ.setdefault("SPM_SECRET_KEYS", TEST_SECRET_KEY)
