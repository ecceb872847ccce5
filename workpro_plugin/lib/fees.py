"""Fee computation from a fee schedule: a pure function on plain data.

Brackets are half-open income ranges [income_from, income_to); the last may be
open-ended (income_to None). Without an income declaration, with overdue proof, or
with an income above the last closed bracket, the maximum rate applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Bracket:
    income_from: Decimal
    income_to: Decimal | None
    amount: Decimal
    subsidy: Decimal | None = None

    def contains(self, income: Decimal) -> bool:
        return self.income_from <= income and (self.income_to is None or income < self.income_to)


@dataclass(frozen=True)
class Fee:
    amount: Decimal
    subsidy: Decimal | None
    bracket: Bracket | None
    reason: str

    @property
    def is_maximum_rate(self) -> bool:
        return self.bracket is None


REASON_BRACKET = "bracket"
REASON_NO_DECLARATION = "no_declaration"
REASON_PROOF_OVERDUE = "proof_overdue"
REASON_ABOVE_BRACKETS = "above_brackets"

REASON_LABELS = {
    REASON_BRACKET: _("nach Einkommensstufe"),
    REASON_NO_DECLARATION: _("Höchstsatz: keine Einkommenserklärung"),
    REASON_PROOF_OVERDUE: _("Höchstsatz: Einkommensnachweis nicht fristgerecht erbracht"),
    REASON_ABOVE_BRACKETS: _("Höchstsatz: Einkommen über der höchsten Stufe"),
}


def compute_fee(
    brackets: Sequence[Bracket],
    maximum_rate: Decimal,
    income: Decimal | None,
    *,
    proof_overdue: bool = False,
) -> Fee:
    """The fee for an annual household income (None: no declaration)."""
    if proof_overdue:
        return Fee(maximum_rate, None, None, REASON_PROOF_OVERDUE)
    if income is None:
        return Fee(maximum_rate, None, None, REASON_NO_DECLARATION)
    for bracket in sorted(brackets, key=lambda b: b.income_from):
        if bracket.contains(income):
            return Fee(bracket.amount, bracket.subsidy, bracket, REASON_BRACKET)
    return Fee(maximum_rate, None, None, REASON_ABOVE_BRACKETS)


def bracket_errors(brackets: Sequence[Bracket], maximum_rate: Decimal | None) -> list[tuple[int, str]]:
    """Problems of a bracket list as (index in the given order, message); [] when valid.

    Brackets must start at 0, follow each other without gap or overlap, only the
    last may be open-ended, and none may cost more than the maximum rate.
    """
    errors: list[tuple[int, str]] = []
    ordered = sorted(enumerate(brackets), key=lambda item: item[1].income_from)
    expected_from = Decimal(0)
    for position, (index, bracket) in enumerate(ordered):
        is_last = position == len(ordered) - 1
        if bracket.income_to is not None and bracket.income_to <= bracket.income_from:
            errors.append((index, str(_("„Bis unter“ muss größer sein als „Von“."))))
        if bracket.income_from < expected_from:
            errors.append((index, str(_("Diese Einkommensstufe überschneidet sich mit der vorherigen."))))
        elif bracket.income_from > expected_from:
            errors.append(
                (index, str(_("Lücke vor dieser Einkommensstufe: sie muss bei %(value)s € beginnen."))
                 % {"value": number_format(expected_from, 2, force_grouping=True)})
            )
        if bracket.income_to is None and not is_last:
            errors.append((index, str(_("Nur die höchste Einkommensstufe darf nach oben offen sein."))))
        if maximum_rate is not None and bracket.amount > maximum_rate:
            errors.append((index, str(_("Der Betrag ist höher als der Höchstsatz."))))
        if bracket.subsidy is not None and bracket.subsidy < 0:
            errors.append((index, str(_("Der Zuschuss darf nicht negativ sein."))))
        expected_from = bracket.income_to if bracket.income_to is not None else expected_from
    return errors
