"""What the host needs to know about a hook family, and nothing of any one family.

A registration family (``spm_approval_rules``…) is a ``Family``: the hook, the type of
what it registers and whether one of them must be the default. Each method the core
calls on a registered item is a ``Method`` (timed, awaited) or a ``Validator`` (checking
input at once), carrying the words for errors and the check of the answer. An
``Observer`` is a hook called with an event after a commit. The instances live beside
their contracts in ``contracts.py``, so a new family needs no change to the host.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")
E = TypeVar("E")


class Named(Protocol):
    @property
    def name(self) -> str: ...


def no_problem(_result: object, *_args: object) -> str | None:
    """The check of a method whose answer is not used."""
    return None


@dataclass(frozen=True, slots=True)
class Family(Generic[T]):
    """Things plugins register through one hook, each under a name unique in the family.

    ``field`` is the input field that names one, blamed when the name is unknown.
    ``needs_default``: exactly one of them must be registered with ``default=True``
    (the core's choice when an organisation made none); otherwise at most one may be.
    """

    hook: str
    kind: type[T]
    noun: str
    plural: str
    field: str
    needs_default: bool = False


@dataclass(frozen=True, slots=True)
class Registered(Generic[T]):
    """Something a plugin registered, and which plugin it was."""

    plugin: str
    item: T


@dataclass(frozen=True, slots=True)
class Method(Generic[R]):
    """A method of a registered item the core awaits within the time limit.

    ``doing(item_name, *args)`` says what the call was doing, for the PLUGIN_ERROR
    message; ``problem(result, *args)`` says what is wrong with an answer that is not an
    ``R``, None when it is one. ``absent``: the method is optional and an item without
    it refuses the call with these words (``{item}`` is its name), on ``field``.
    """

    family: Family[Any]
    name: str
    doing: Callable[..., str]
    problem: Callable[..., str | None] = no_problem
    absent: str | None = None
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Validator(Generic[R]):
    """A method of a registered item that checks what a user sent, called at once.

    A ``PluginSettingsError`` it raises is a VALIDATION error on ``field``, prefixed with
    ``refused_as`` (``{plugin}`` and ``{item}`` are filled in); anything else it raises,
    or an answer ``problem`` finds wrong, is PLUGIN_ERROR.
    """

    family: Family[Any]
    name: str
    doing: str
    refused_as: str
    field: str
    problem: Callable[..., str | None] = no_problem


@dataclass(frozen=True, slots=True)
class Observer(Generic[E]):
    """A hook every implementation of which is told of an event after the commit; one
    failing is logged and the others are still told."""

    hook: str
    doing: str


def settings_validator(family: Family[Any]) -> Validator[None]:
    """Every registered item's ``validate_settings``: the organisation's settings for the
    plugin that registered it."""
    return Validator(family, "validate_settings", "validating its settings",
                     "plugin {plugin!r}", "settings")
