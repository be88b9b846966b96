"""Small input checks shared by the domain commands."""

from __future__ import annotations

from spm_api.vocabulary.errors import ErrorCode, fail


def required_text(value: str, field: str, max_length: int | None = None) -> str:
    """Strip ``value``; refuse it when blank or longer than ``max_length``."""
    cleaned = value.strip()
    if not cleaned:
        raise fail(ErrorCode.VALIDATION, f"{field} must not be blank", field)
    return optional_text(cleaned, field, max_length)


def optional_text(value: str, field: str, max_length: int | None = None) -> str:
    """Strip ``value``; refuse a NUL character (no database text can hold one) and more
    than ``max_length`` characters."""
    if "\x00" in value:
        raise fail(ErrorCode.VALIDATION, f"{field} may not contain NUL characters", field)
    cleaned = value.strip()
    if max_length is not None and len(cleaned) > max_length:
        raise fail(
            ErrorCode.VALIDATION, f"{field} must be at most {max_length} characters", field
        )
    return cleaned

