"""Reconnect back-off and dial strings."""

from __future__ import annotations

import pytest

from dialer.core.backoff import reconnect_delay
from dialer.core.dialstring import dial_string


@pytest.mark.parametrize(
    ("failures", "expected"), [(0, 0.0), (1, 0.5), (2, 1.0), (3, 2.0), (6, 16.0), (7, 30.0), (500, 30.0)]
)
def test_reconnect_delay_doubles_and_caps(failures: int, expected: float) -> None:
    assert reconnect_delay(failures, 0.5, 30.0) == expected


def test_reconnect_delay_refuses_nonsense_bounds() -> None:
    with pytest.raises(ValueError, match="minimum"):
        reconnect_delay(1, 5.0, 1.0)


@pytest.mark.parametrize(
    ("trunk", "number", "expected"),
    [
        ("sim", "+79120000004", "Local/79120000004@upravdolg-sim"),
        ("sipp", "+79120000004", "PJSIP/79120000004@sipp"),
        ("provider-1", "+73432123456", "PJSIP/73432123456@provider-1"),
    ],
)
def test_dial_string(trunk: str, number: str, expected: str) -> None:
    assert dial_string(trunk, number) == expected


@pytest.mark.parametrize(
    ("trunk", "number"), [("sim", "+7912abc"), ("bad trunk", "+79120000004"), ("a/b", "+79120000004")]
)
def test_dial_string_refuses_bad_input(trunk: str, number: str) -> None:
    with pytest.raises(ValueError, match=r"E\.164|trunk"):
        dial_string(trunk, number)
