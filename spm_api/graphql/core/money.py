"""Money in the API: an exact decimal amount as a string, and its ISO 4217 currency."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry.types import Info

from spm_api.graphql.core.context import Context
from spm_api.vocabulary import money


@strawberry.type(description="An exact amount of money. `amount` is a decimal string "
                             "(never a float), in the currency's minor unit.")
class Money:
    amount: Decimal
    currency: str = strawberry.field(description="ISO 4217 code.")


@strawberry.input(description="An amount of money. It must be in the organisation's "
                              "currency: another currency is refused with "
                              "CURRENCY_MISMATCH, never converted.")
class MoneyInput:
    amount: str = strawberry.field(description="A decimal string, like \"1250.00\".")
    currency: str = strawberry.field(description="ISO 4217 code, like \"EUR\".")

    def to_domain(self, field: str) -> money.Money:
        return money.Money.parse(self.amount, self.currency, field)


def optional_money(value: MoneyInput | None, field: str) -> money.Money | None:
    return None if value is None else value.to_domain(field)


async def books_currency(info: Info[Context, None]) -> str:
    """The currency of the reader's organisation (loaded once per request)."""
    assert info.context.actor is not None
    organisation = await info.context.loaders.organisation.load(
        info.context.actor.organisation_id)
    assert organisation is not None
    return organisation.currency


async def money_of(info: Info[Context, None], amount: Decimal | None) -> Money | None:
    """A stored amount of the reader's organisation as Money."""
    if amount is None:
        return None
    currency = await books_currency(info)
    return Money(amount=money.rounded(amount, currency), currency=currency)


def money_in(amount: Decimal, currency: str) -> Money:
    return Money(amount=money.rounded(amount, currency), currency=currency)
