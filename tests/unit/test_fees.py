"""The pure fee computation and the bracket rules, on their boundaries."""

from decimal import Decimal as D

import pytest

from workpro_plugin.lib.fees import (
    REASON_ABOVE_BRACKETS,
    REASON_BRACKET,
    REASON_NO_DECLARATION,
    REASON_PROOF_OVERDUE,
    Bracket,
    bracket_errors,
    compute_fee,
)

BRACKETS = [
    Bracket(D("0"), D("20000"), D("0"), D("250")),
    Bracket(D("20000"), D("35000"), D("150"), D("150")),
    Bracket(D("35000"), D("50000"), D("260")),
]
MAXIMUM = D("420")


@pytest.mark.parametrize(
    ("income", "amount", "reason"),
    [
        (D("0"), D("0"), REASON_BRACKET),
        (D("19999.99"), D("0"), REASON_BRACKET),
        (D("20000"), D("150"), REASON_BRACKET),  # lower bound inclusive
        (D("34999.99"), D("150"), REASON_BRACKET),
        (D("35000"), D("260"), REASON_BRACKET),
        (D("49999.99"), D("260"), REASON_BRACKET),
        (D("50000"), MAXIMUM, REASON_ABOVE_BRACKETS),  # upper bound exclusive, no open bracket
        (None, MAXIMUM, REASON_NO_DECLARATION),
    ],
)
def test_fee_on_bracket_boundaries(income, amount, reason):
    fee = compute_fee(BRACKETS, MAXIMUM, income)
    assert fee.amount == amount
    assert fee.reason == reason
    assert fee.is_maximum_rate == (reason != REASON_BRACKET)


def test_subsidy_comes_from_the_bracket():
    assert compute_fee(BRACKETS, MAXIMUM, D("25000")).subsidy == D("150")
    assert compute_fee(BRACKETS, MAXIMUM, D("40000")).subsidy is None


def test_overdue_proof_means_maximum_rate_even_for_low_income():
    fee = compute_fee(BRACKETS, MAXIMUM, D("1000"), proof_overdue=True)
    assert (fee.amount, fee.reason) == (MAXIMUM, REASON_PROOF_OVERDUE)


def test_open_ended_last_bracket_covers_high_incomes():
    brackets = [*BRACKETS, Bracket(D("50000"), None, D("400"))]
    assert compute_fee(brackets, MAXIMUM, D("10000000")).amount == D("400")


def test_bracket_order_does_not_matter():
    assert compute_fee(list(reversed(BRACKETS)), MAXIMUM, D("36000")).amount == D("260")


def test_valid_brackets_have_no_errors():
    assert bracket_errors([*BRACKETS, Bracket(D("50000"), None, D("420"))], MAXIMUM) == []


@pytest.mark.parametrize(
    ("brackets", "bad_index", "fragment"),
    [
        ([Bracket(D("0"), D("100"), D("1")), Bracket(D("90"), D("200"), D("2"))], 1, "überschneidet"),
        ([Bracket(D("0"), D("100"), D("1")), Bracket(D("150"), D("200"), D("2"))], 1, "Lücke"),
        ([Bracket(D("10"), D("100"), D("1"))], 0, "Lücke"),
        ([Bracket(D("0"), None, D("1")), Bracket(D("100"), D("200"), D("2"))], 0, "offen"),
        ([Bracket(D("0"), D("100"), D("500"))], 0, "Höchstsatz"),
        ([Bracket(D("0"), D("0"), D("1"))], 0, "größer"),
    ],
)
def test_bracket_errors(brackets, bad_index, fragment):
    errors = bracket_errors(brackets, MAXIMUM)
    assert any(index == bad_index and fragment in message for index, message in errors), errors
