"""Reading what an admin or a finance user sent a plugin: an organisation's settings
(``validate_settings``) or a charging policy's parameters (``validate_parameters``).

Both arrive as JSON, so a number may be an int, a float or a string; every function here
accepts what JSON can carry, refuses the rest with a ``PluginSettingsError`` in words
for the person who sent it, and returns the value exactly (``0.1`` is one tenth, not the
nearest binary float). The built-in plugins use them too, so their refusals and a
plugin's read the same.

    from spm_api.plugins.settings import an_object, decimal_number, refuse_unknown

    def parse_settings(settings):
        settings = an_object(settings, "the my_rule settings")
        refuse_unknown(settings, ("threshold",), reader="the my_rule rule")
        if settings.get("threshold") is None:  # a key set to null is not set
            return Decimal(0)
        return decimal_number(settings["threshold"], "threshold")
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum
from fractions import Fraction
from typing import Any, TypeVar

from spm_api.plugins.contracts import PluginSettingsError

__all__ = [
    "MAX_INTEGER_DIGITS",
    "PluginSettingsError",
    "an_object",
    "decimal_number",
    "fraction",
    "member",
    "refuse_unknown",
]

#: Digits before the decimal point a number may have by default: beyond any real price,
#: and it keeps "1e999999" from becoming a million-digit string.
MAX_INTEGER_DIGITS = 14

EnumT = TypeVar("EnumT", bound=Enum)


def an_object(value: object, what: str) -> Mapping[str, Any]:
    """``value`` as a mapping: "the my_rule settings must be an object, not list"."""
    if not isinstance(value, Mapping):
        raise PluginSettingsError(f"{what} must be an object, not {type(value).__name__}")
    return value


def refuse_unknown(given: Mapping[Any, Any], known: Collection[str], *, reader: str,
                   kind: str = "setting") -> None:
    """Refuse keys the plugin does not read, naming the ones it does, so a typo cannot
    silently fall back to a default: "unknown setting 'vetoRole': the supermajority rule
    reads only threshold, quorum and veto_role"."""
    unknown = sorted(str(key) for key in given if key not in known)
    if not unknown:
        return
    reads = f"only {_listed(list(known))}" if known else f"no {kind}s"
    raise PluginSettingsError(
        f"unknown {kind} {', '.join(repr(key) for key in unknown)}: {reader} reads {reads}")


def decimal_number(value: object, what: str, *, negative: bool = False,
            max_integer_digits: int = MAX_INTEGER_DIGITS) -> Decimal:
    """A JSON number or a decimal string, exactly; zero or more unless ``negative``.
    Booleans, NaN, infinities and numbers of more than ``max_integer_digits`` digits
    before the point are refused; -0 is 0."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        raise PluginSettingsError(f"{what} must be a number, not {value!r}")
    try:
        # str() of a float is its shortest decimal form: 0.1 stays 0.1.
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise PluginSettingsError(f"{what} must be a number, not {value!r}") from None
    if not number.is_finite():
        raise PluginSettingsError(f"{what} must be a number, not {value!r}")
    if number < 0 and not negative:
        raise PluginSettingsError(f"{what} must be zero or more, not {value!r}")
    if number.adjusted() >= max_integer_digits:
        raise PluginSettingsError(f"{what} is too large: {value!r}")
    return abs(number) if number == 0 else number


def fraction(value: object, what: str) -> Fraction:
    """A share written as a number, a decimal string ("0.75") or a fraction string
    ("2/3"), exactly."""
    expected = (f'{what} must be a number, a decimal string such as "0.75" or a fraction '
                f'such as "2/3"')
    if isinstance(value, bool):  # bool is an int to Python, but true is no share
        raise PluginSettingsError(f"{expected}, not {value!r}")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PluginSettingsError(f"{expected}, not {value!r}")
        return Fraction(repr(value))
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except (ValueError, ZeroDivisionError):
            raise PluginSettingsError(f"{expected}, not {value!r}") from None
    raise PluginSettingsError(f"{expected}, not {value!r}")


def member(value: object, what: str, enum: type[EnumT]) -> EnumT:
    """The member of ``enum`` whose value ``value`` is: ``member(raw, "role", Role)``."""
    for candidate in enum:
        if isinstance(value, str) and candidate.value == value:
            return candidate
    choices = ", ".join(str(candidate.value) for candidate in enum)
    raise PluginSettingsError(f"{what} must be one of {choices}, not {value!r}")


def _listed(names: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
