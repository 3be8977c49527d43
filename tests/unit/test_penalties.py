"""Penalties (пени) under ЖК РФ ст. 155 ч. 14, checked against sums worked out by hand in the comments.

Calendar used throughout: a charge for 12.2025 is due on 10.01.2026; "day n" is 10.01.2026 + n days:
day 30 = 09.02.2026, day 31 = 10.02.2026 (the first penalty day), day 90 = 10.04.2026 (the last 1/300 day),
day 91 = 11.04.2026 (the first 1/130 day). Days 31..90 are 60 days.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from debtors.penalties import (
    DEFAULT_KEY_RATES_PATH,
    DEFAULT_MORATORIUMS_PATH,
    CapRateSpan,
    Charge,
    KeyRate,
    Moratorium,
    Payment,
    PenaltyCalculation,
    PenaltyDataError,
    PenaltyError,
    PenaltyRules,
    PenaltySegment,
    RatePolicy,
    calculate_penalties,
    due_date_for,
    load_key_rates,
    load_moratoriums,
    monthly_charge,
    render_penalty_table,
)
from dialer.errors import UpravDolgError

D = Decimal
FLAT_10 = PenaltyRules(key_rates=(KeyRate(date(2019, 1, 1), D("10")),))
DEC_2025 = monthly_charge(date(2025, 12, 1), D("1000.00"))  # due 10.01.2026
NOV_2025 = monthly_charge(date(2025, 11, 1), D("1000.00"))  # due 10.12.2025


def calc(
    charges: list[Charge], on: date, rules: PenaltyRules = FLAT_10, payments: list[Payment] | None = None
) -> PenaltyCalculation:
    return calculate_penalties(charges, payments or [], rules, on)


def spans(result: PenaltyCalculation) -> list[tuple[date, date, int, int, Decimal, Decimal, Decimal]]:
    return [
        (s.start, s.end, s.days, s.fraction, s.outstanding, s.rate_percent, s.penalty)
        for s in result.segments
    ]


def test_the_due_date_is_the_10th_of_the_next_month_and_configurable() -> None:
    assert DEC_2025.due_date == date(2026, 1, 10)
    assert monthly_charge(date(2026, 1, 15), D("1")).period == date(2026, 1, 1)
    assert monthly_charge(date(2026, 1, 1), D("1"), due_day=25).due_date == date(2026, 2, 25)
    # a day beyond the month's end falls on its last day: 31 → 28.02.2026
    assert due_date_for(date(2026, 1, 1), 31) == date(2026, 2, 28)
    with pytest.raises(PenaltyError):
        due_date_for(date(2026, 1, 1), 0)


def test_nothing_is_owed_in_the_first_30_days() -> None:
    # 09.02.2026 is day 30: still inside the free period.
    result = calc([DEC_2025], date(2026, 2, 9))
    assert result.segments == ()
    assert result.total_penalty == D("0.00")
    assert result.total_outstanding == D("1000.00")


def test_day_31_is_the_first_penalty_day() -> None:
    # One day at 1/300: 1000 × 1 × 10 % / 300 = 0.3333… → 0.33
    result = calc([DEC_2025], date(2026, 2, 10))
    assert spans(result) == [(date(2026, 2, 10), date(2026, 2, 10), 1, 300, D("1000.00"), D("10"), D("0.33"))]


def test_days_31_to_90_are_charged_at_one_three_hundredth() -> None:
    # 60 days × 1/300 × 10 % × 1000 = 1000 × 60 × 0.10 / 300 = 20.00
    result = calc([DEC_2025], date(2026, 4, 10))
    assert spans(result) == [
        (date(2026, 2, 10), date(2026, 4, 10), 60, 300, D("1000.00"), D("10"), D("20.00"))
    ]
    assert result.total_penalty == D("20.00")


def test_the_fraction_switches_to_one_hundred_thirtieth_exactly_on_day_91() -> None:
    # days 31..90: 20.00 (as above); day 91 = 11.04.2026: 1000 × 1 × 0.10 / 130 = 0.7692… → 0.77
    result = calc([DEC_2025], date(2026, 4, 11))
    assert spans(result) == [
        (date(2026, 2, 10), date(2026, 4, 10), 60, 300, D("1000.00"), D("10"), D("20.00")),
        (date(2026, 4, 11), date(2026, 4, 11), 1, 130, D("1000.00"), D("10"), D("0.77")),
    ]
    # 30 days at 1/130 (11.04..10.05): 1000 × 30 × 0.10 / 130 = 23.0769… → 23.08; total 20.00 + 23.08 = 43.08
    assert calc([DEC_2025], date(2026, 5, 10)).total_penalty == D("43.08")


def test_a_partial_payment_lowers_the_base_from_the_next_day() -> None:
    # 400 paid on 01.03.2026 (day 50). The payment day itself still bears the old base (по день оплаты):
    # 10.02..01.03 = 20 days × 1000 × 0.10 / 300 = 6.666… → 6.67
    # 02.03..10.04 = 40 days ×  600 × 0.10 / 300 = 8.00           total 14.67
    result = calc([DEC_2025], date(2026, 4, 10), payments=[Payment(date(2026, 3, 1), D("400.00"))])
    assert spans(result) == [
        (date(2026, 2, 10), date(2026, 3, 1), 20, 300, D("1000.00"), D("10"), D("6.67")),
        (date(2026, 3, 2), date(2026, 4, 10), 40, 300, D("600.00"), D("10"), D("8.00")),
    ]
    assert result.total_penalty == D("14.67")
    assert result.charges[0].paid == D("400.00")
    assert result.total_outstanding == D("600.00")


def test_full_payment_stops_the_penalty_and_later_payments_are_ignored() -> None:
    # Paid in full on 20.02.2026: 10.02..20.02 = 11 days × 1000 × 0.10 / 300 = 3.666… → 3.67, then nothing.
    payments = [Payment(date(2026, 2, 20), D("1000.00")), Payment(date(2026, 6, 1), D("50.00"))]
    result = calc([DEC_2025], date(2026, 4, 10), payments=payments)
    assert spans(result) == [
        (date(2026, 2, 10), date(2026, 2, 20), 11, 300, D("1000.00"), D("10"), D("3.67"))
    ]
    assert result.total_outstanding == D("0.00")
    assert result.unallocated == D("0.00")  # the June payment is after the calculation date


def test_several_charges_are_added_up() -> None:
    # 11.2025 (due 10.12.2025): days 31..90 = 10.01..10.03.2026: 60 × 1000 × 0.10 / 300 = 20.00
    #   days 91.. = 11.03..10.04.2026 = 31 days: 1000 × 31 × 0.10 / 130 = 23.846… → 23.85; in all 43.85
    # 12.2025 (due 10.01.2026): 10.02..10.04.2026 = 60 days: 20.00
    result = calc([DEC_2025, NOV_2025], date(2026, 4, 10))
    assert [(c.charge.period, c.penalty) for c in result.charges] == [
        (date(2025, 11, 1), D("43.85")),  # sorted oldest first whatever the input order
        (date(2025, 12, 1), D("20.00")),
    ]
    assert result.total_penalty == D("63.85")
    assert result.total_outstanding == D("2000.00")


def test_a_payment_goes_to_the_oldest_charge_first() -> None:
    # 1000 paid on 20.12.2025 (before any penalty day) settles 11.2025, so only 12.2025 accrues: 20.00.
    result = calc([DEC_2025, NOV_2025], date(2026, 4, 10), payments=[Payment(date(2025, 12, 20), D("1000"))])
    assert [(c.charge.period, c.outstanding, c.penalty) for c in result.charges] == [
        (date(2025, 11, 1), D("0.00"), D("0.00")),
        (date(2025, 12, 1), D("1000.00"), D("20.00")),
    ]


def test_a_payment_designating_its_period_goes_to_that_period_first() -> None:
    # The same 1000 designated for 12.2025 (ГК РФ ст. 319.1): 11.2025 stays unpaid and accrues 43.85 (above).
    payment = Payment(date(2025, 12, 20), D("1000"), period=date(2025, 12, 1))
    result = calc([DEC_2025, NOV_2025], date(2026, 4, 10), payments=[payment])
    assert [(c.charge.period, c.outstanding, c.penalty) for c in result.charges] == [
        (date(2025, 11, 1), D("1000.00"), D("43.85")),
        (date(2025, 12, 1), D("0.00"), D("0.00")),
    ]
    # Excess over the designated period goes oldest-first; beyond every charge it is an advance.
    result = calc(
        [DEC_2025, NOV_2025],
        date(2026, 4, 10),
        payments=[Payment(date(2025, 12, 20), D("2500"), period=date(2025, 12, 1))],
    )
    assert result.total_outstanding == D("0.00")
    assert result.unallocated == D("500")


def test_a_payment_for_a_period_without_a_charge_is_refused() -> None:
    with pytest.raises(PenaltyError, match=r"03\.2026"):
        calc(
            [DEC_2025],
            date(2026, 4, 10),
            payments=[Payment(date(2026, 3, 1), D("1"), period=date(2026, 3, 1))],
        )


def test_no_penalty_accrues_inside_a_moratorium_but_the_day_count_runs_on() -> None:
    # Moratorium 01.03..10.03.2026 inside days 31..90 of 12.2025:
    # 10.02..28.02 = 19 days × 1000 × 0.10 / 300 = 6.333… → 6.33
    # 01.03..10.03 = 10 days, moratorium → 0.00
    # 11.03..10.04 = 31 days × 1000 × 0.10 / 300 = 10.333… → 10.33     total 16.66
    # (one unbroken 50-day segment would round 16.666… to 16.67: rounding is per segment)
    pause = Moratorium(date(2026, 3, 1), date(2026, 3, 10), "test")
    rules = PenaltyRules(key_rates=FLAT_10.key_rates, moratoriums=(pause,))
    result = calc([DEC_2025], date(2026, 4, 10), rules)
    assert spans(result) == [
        (date(2026, 2, 10), date(2026, 2, 28), 19, 300, D("1000.00"), D("10"), D("6.33")),
        (date(2026, 3, 1), date(2026, 3, 10), 10, 300, D("1000.00"), D("0"), D("0.00")),
        (date(2026, 3, 11), date(2026, 4, 10), 31, 300, D("1000.00"), D("10"), D("10.33")),
    ]
    assert result.segments[1].moratorium == pause
    assert result.total_penalty == D("16.66")


def test_after_the_2020_moratorium_a_long_overdue_charge_is_already_at_one_hundred_thirtieth() -> None:
    # 02.2020 is due 10.03.2020; day 91 = 09.06.2020, inside ПП № 424 (06.04–31.12.2020). The day count ran
    # through the moratorium, so on 01.01.2021 the charge is at 1/130, not back at 1/300:
    # 01.01..31.01.2021 = 31 days × 1000 × 0.10 / 130 = 23.846… → 23.85 (1/300 would give 10.33).
    rules = PenaltyRules(key_rates=FLAT_10.key_rates, moratoriums=tuple(load_moratoriums()))
    result = calc([monthly_charge(date(2020, 2, 1), D("1000"))], date(2021, 1, 31), rules)
    assert spans(result)[-1] == (date(2021, 1, 1), date(2021, 1, 31), 31, 130, D("1000"), D("10"), D("23.85"))
    assert result.total_penalty == D("23.85")


RATE_RISE = (KeyRate(date(2019, 1, 1), D("10")), KeyRate(date(2026, 3, 1), D("20")))


def test_per_period_charges_each_day_at_the_rate_in_force_that_day() -> None:
    # 10.02..28.02 = 19 days at 10 %: 1000 × 19 × 0.10 / 300 = 6.333… → 6.33
    # 01.03..10.04 = 41 days at 20 %: 1000 × 41 × 0.20 / 300 = 27.333… → 27.33     total 33.66
    rules = PenaltyRules(key_rates=RATE_RISE, policy=RatePolicy.PER_PERIOD)
    result = calc([DEC_2025], date(2026, 4, 10), rules)
    assert spans(result) == [
        (date(2026, 2, 10), date(2026, 2, 28), 19, 300, D("1000.00"), D("10"), D("6.33")),
        (date(2026, 3, 1), date(2026, 4, 10), 41, 300, D("1000.00"), D("20"), D("27.33")),
    ]
    assert result.total_penalty == D("33.66")


def test_on_calculation_date_charges_every_day_at_the_rate_of_that_date() -> None:
    # The rate on 10.04.2026 is 20 %: 60 days × 1000 × 0.20 / 300 = 40.00
    rules = PenaltyRules(key_rates=RATE_RISE, policy=RatePolicy.ON_CALCULATION_DATE)
    result = calc([DEC_2025], date(2026, 4, 10), rules)
    assert spans(result) == [
        (date(2026, 2, 10), date(2026, 4, 10), 60, 300, D("1000.00"), D("20"), D("40.00"))
    ]
    # ... and on 28.02.2026 (before the rise) it is 10 %: 19 days → 6.33
    assert calc([DEC_2025], date(2026, 2, 28), rules).total_penalty == D("6.33")


def test_a_cap_rate_span_lowers_the_rate_inside_it_only() -> None:
    # Key rate 20 %, capped at 9.5 % during 01.03..31.03.2026 (the ПП № 474 pattern):
    # 10.02..28.02 = 19 days at 20 %:  1000 × 19 × 0.20  / 300 = 12.666… → 12.67
    # 01.03..31.03 = 31 days at 9.5 %: 1000 × 31 × 0.095 / 300 = 9.8166… → 9.82
    # 01.04..10.04 = 10 days at 20 %:  1000 × 10 × 0.20  / 300 = 6.666…  → 6.67     total 29.16
    cap = CapRateSpan(date(2026, 3, 1), date(2026, 3, 31), D("9.5"))
    rules = PenaltyRules(key_rates=(KeyRate(date(2019, 1, 1), D("20")),), cap_spans=(cap,))
    result = calc([DEC_2025], date(2026, 4, 10), rules)
    assert [(s.days, s.rate_percent, s.penalty) for s in result.segments] == [
        (19, D("20"), D("12.67")),
        (31, D("9.5"), D("9.82")),
        (10, D("20"), D("6.67")),
    ]
    assert result.total_penalty == D("29.16")


def test_a_cap_above_the_key_rate_changes_nothing() -> None:
    cap = CapRateSpan(date(2026, 3, 1), date(2026, 3, 31), D("25"))
    rules = PenaltyRules(key_rates=(KeyRate(date(2019, 1, 1), D("20")),), cap_spans=(cap,))
    assert calc([DEC_2025], date(2026, 4, 10), rules).total_penalty == D("40.00")  # 60 × 1000 × 0.20 / 300


def test_segment_penalties_round_half_up_to_kopecks() -> None:
    # 15.00 × 1 day × 10 % / 300 = 0.005 exactly → 0.01 (half-up; banker's rounding would give 0.00)
    result = calc([monthly_charge(date(2025, 12, 1), D("15.00"))], date(2026, 2, 10))
    assert result.segments[0].penalty == D("0.01")
    # 14.00 × 1 × 10 % / 300 = 0.004666… → 0.00
    assert calc([monthly_charge(date(2025, 12, 1), D("14.00"))], date(2026, 2, 10)).total_penalty == D("0.00")


def test_a_day_before_the_first_known_rate_is_refused() -> None:
    rules = PenaltyRules(key_rates=(KeyRate(date(2026, 3, 1), D("10")),), policy=RatePolicy.PER_PERIOD)
    with pytest.raises(PenaltyError, match=r"no key rate is known for 10\.02\.2026"):
        calc([DEC_2025], date(2026, 4, 10), rules)


def test_rules_refuse_unsorted_rates_and_bad_inputs() -> None:
    with pytest.raises(PenaltyError, match="sorted"):
        PenaltyRules(key_rates=(KeyRate(date(2026, 3, 1), D("10")), KeyRate(date(2026, 3, 1), D("11"))))
    with pytest.raises(PenaltyError, match="empty"):
        PenaltyRules(key_rates=())
    with pytest.raises(PenaltyError, match="negative"):
        calc([Charge(date(2025, 12, 1), D("-1"), date(2026, 1, 10))], date(2026, 4, 10))
    with pytest.raises(PenaltyError, match="not positive"):
        calc([DEC_2025], date(2026, 4, 10), payments=[Payment(date(2026, 3, 1), D("0"))])


def test_the_table_reads_as_a_claim_attachment() -> None:
    # 5 000 for 01.2026 (due 10.02.2026, day 31 = 13.03.2026), 16 %, on 26.04.2026 (45 days at 1/300):
    # 5000 × 45 × 0.16 / 300 = 120.00
    rules = PenaltyRules(
        key_rates=(KeyRate(date(2019, 1, 1), D("16")),),
        moratoriums=(Moratorium(date(2026, 4, 25), date(2026, 4, 26), "ПП РФ № 1"),),
    )
    result = calc([monthly_charge(date(2026, 1, 1), D("5000"))], date(2026, 4, 26), rules)
    assert render_penalty_table(result).splitlines() == [
        "Расчёт пеней на 26.04.2026 (ч. 14 ст. 155 ЖК РФ)",
        "Ставка: ключевая ставка Банка России на дату расчёта",
        "За 01.2026 (13.03.2026–24.04.2026): 5 000,00 ₽ × 43 дн. × 1/300 × 16 % = 114,67 ₽",
        "За 01.2026 (25.04.2026–26.04.2026): 5 000,00 ₽ × 2 дн. — мораторий (ПП РФ № 1), пени не начисляются"
        " = 0,00 ₽",
        "Итого за 01.2026: 114,67 ₽",
        "Итого пени: 114,67 ₽",
        "Основной долг на 26.04.2026: 5 000,00 ₽",
    ]
    plain = PenaltyRules(key_rates=(KeyRate(date(2019, 1, 1), D("16.5")),), policy=RatePolicy.PER_PERIOD)
    text = render_penalty_table(calc([monthly_charge(date(2026, 1, 1), D("5000"))], date(2026, 4, 26), plain))
    # 5000 × 45 × 0.165 / 300 = 123.75
    assert "5 000,00 ₽ × 45 дн. × 1/300 × 16,5 % = 123,75 ₽" in text
    assert "действовавшая в каждый период" in text


def test_segment_fraction_label() -> None:
    segment = PenaltySegment(
        date(2026, 1, 1), D("1"), date(2026, 1, 1), date(2026, 1, 1), 1, 130, D("1"), D("0")
    )
    assert segment.fraction_label == "1/130"


# --- the data files ---------------------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rates.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "row", "field", "expected_part"),
    [
        ("2024-10-28,21,a\n2025-13-01,20,b\n", 3, "effective_from", "YYYY-MM-DD"),
        ("2024-10-28,21,a\n09.06.2025,20,b\n", 3, "effective_from", "YYYY-MM-DD"),
        ("2024-10-28,21,a\n2025-06-09,двадцать,b\n", 3, "percent", "percentage"),
        ("2024-10-28,0,a\n", 2, "percent", "percentage"),
        ("2024-10-28,21,a\n2024-09-16,19,b\n", 3, "effective_from", "after 2024-10-28"),
        ("2024-10-28,21,a\n2024-10-28,19,b\n", 3, "effective_from", "no duplicates"),
    ],
)
def test_a_bad_key_rate_row_names_the_file_row_and_field(
    tmp_path: Path, body: str, row: int, field: str, expected_part: str
) -> None:
    path = write(tmp_path, "effective_from,percent,source\n" + body)
    with pytest.raises(PenaltyDataError) as caught:
        load_key_rates(path)
    error = caught.value
    assert isinstance(error, UpravDolgError)
    assert (error.source, error.row, error.field) == (str(path), row, field)
    assert f"{path}, row {row}, field {field!r}" in str(error)
    assert expected_part in str(error)


def test_the_key_rate_file_allows_comments_and_a_decimal_comma_and_needs_its_header(tmp_path: Path) -> None:
    path = write(tmp_path, '# kept by hand\neffective_from,percent,source\n\n2025-10-27,"16,5",cbr.ru\n')
    assert load_key_rates(path) == [KeyRate(date(2025, 10, 27), D("16.5"), "cbr.ru")]
    with pytest.raises(PenaltyDataError, match="row 1, field 'percent'"):
        load_key_rates(write(tmp_path, "effective_from,rate,source\n2025-10-27,16.5,x\n"))
    with pytest.raises(PenaltyDataError, match="at least one key rate"):
        load_key_rates(write(tmp_path, "effective_from,percent,source\n"))


def test_a_moratorium_ending_before_it_starts_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("start,end,source\n2022-04-01,2022-03-01,x\n", encoding="utf-8")
    with pytest.raises(PenaltyDataError, match=r"row 2, field 'end'"):
        load_moratoriums(path)


def test_the_shipped_data_files_load() -> None:
    rates = load_key_rates(DEFAULT_KEY_RATES_PATH)
    assert KeyRate(date(2022, 2, 28), D("20"), rates[0].source) in rates
    assert KeyRate(date(2024, 10, 28), D("21"), rates[0].source) in rates
    assert rates[-1].effective_from >= date(2025, 10, 27)
    assert "cbr.ru" in rates[0].source
    rules = PenaltyRules(
        key_rates=tuple(rates), moratoriums=tuple(load_moratoriums(DEFAULT_MORATORIUMS_PATH))
    )
    assert rules.key_rate_on(date(2022, 2, 27)) == D("9.5")  # the ПП № 474 reference rate
    assert rules.key_rate_on(date(2023, 1, 1)) == D("7.5")
    assert [(m.start, m.end) for m in rules.moratoriums] == [
        (date(2020, 4, 6), date(2020, 12, 31)),
        (date(2022, 4, 1), date(2022, 10, 1)),
    ]
    assert all("ПП РФ №" in m.source for m in rules.moratoriums)
