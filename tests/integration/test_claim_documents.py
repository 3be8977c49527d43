"""The application for a court order on SQLite and PostgreSQL: the data from the registry (two monthly
snapshots and a payment), the PDF and DOCX read back, the lawyer's charges file, template errors, the CLI,
and the state fee by НК РФ ст. 333.19."""

from __future__ import annotations

import argparse
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader

from db.models import Payment
from debtors.claim_charges import parse_charges_file
from debtors.claim_documents import (
    TEMPLATE_PATH,
    ClaimData,
    ClaimError,
    ClaimTemplateError,
    StateFeeError,
    build_claim_data,
    claim_state_fee,
    court_order_state_fee,
    parse_template,
    render_claim_docx,
    render_claim_pdf,
)
from debtors.legal_cases import case_of, open_case
from debtors.registry_import import import_debtors
from dialer.bootstrap import Storage
from dialer.cli import main
from dialer.cli_claims import CLAIM_COMMANDS, add_claim_parsers
from dialer.settings import Settings

SAMPLE = Path(__file__).resolve().parents[2] / "debtors/samples/debtors_2026-11.csv"
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
ON = date(2027, 1, 15)
TEMPLATE = TEMPLATE_PATH.read_text(encoding="utf-8")


@pytest.fixture
def registry(storage: Storage, tmp_path: Path) -> Storage:
    """The sample list on 01.11.2026, a December list where 100001 owes 13 000,00, and 2 000,00 paid."""
    org = storage.organisation_id
    import_debtors(storage.sessions, org, SAMPLE, now=NOW, as_of=date(2026, 11, 1))
    december = SAMPLE.read_bytes().decode("cp1251").replace(";12 345,67;", ";13 000,00;")
    path = tmp_path / "debtors_2026-12.csv"
    path.write_bytes(december.encode("cp1251"))
    import_debtors(storage.sessions, org, path, now=NOW, as_of=date(2026, 12, 1))
    with storage.sessions.begin() as session:
        case = open_case(
            session, org, "100001", opened_on=date(2027, 1, 10), actor="юрист", now=NOW,
            court="Мировому судье судебного участка № 3 Ленинского судебного района г. Екатеринбурга",
        )  # fmt: skip
        session.add(
            Payment(
                organisation_id=org, debtor_id=case.debtor_id, paid_on=date(2026, 11, 20),
                amount=Decimal("2000.00"), reference="п/п 17", created_at=NOW,
            )
        )  # fmt: skip
    return storage


def claim(storage: Storage, **kwargs: object) -> ClaimData:
    with storage.sessions() as session:
        return build_claim_data(session, storage.organisation_id, 1, calculated_on=ON, **kwargs)  # type: ignore[arg-type]


def pdf_text(content: bytes) -> str:
    """The text of every page, whitespace (line breaks, no-break spaces) collapsed to single spaces."""
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


def test_the_claim_data_from_the_registry(registry: Storage) -> None:
    data = claim(registry)
    # October (the opening debt) 12 345,67 due 10.11; November 13 000 − 12 345,67 + 2 000 = 2 654,33 due 10.12
    assert [(c.charge.period, c.charge.amount) for c in data.calculation.charges] == [
        (date(2026, 10, 1), Decimal("12345.67")),
        (date(2026, 11, 1), Decimal("2654.33")),
    ]
    assert data.charges.reconstructed
    # the payment of 20.11 goes to October: 10 345,67 from 21.11; пени from day 31 (11.12) to 15.01, 36 days:
    # 10 345,67 × 36 × 16,5 % / 300 = 204,84; November from 10.01 to 15.01, 6 days:
    # 2 654,33 × 6 × 16,5 % / 300 = 8,76
    assert [(s.period, s.days, s.fraction, s.penalty) for s in data.calculation.segments] == [
        (date(2026, 10, 1), 36, 300, Decimal("204.84")),
        (date(2026, 11, 1), 6, 300, Decimal("8.76")),
    ]
    assert data.calculation.total_outstanding == Decimal("13000.00")
    assert (data.principal, data.penalty, data.total) == (
        Decimal("13000.00"),
        Decimal("213.60"),
        Decimal("13213.60"),
    )
    assert data.state_fee == Decimal("2000.00")
    assert (data.period_from, data.period_to) == (date(2026, 10, 1), date(2026, 11, 30))
    assert (data.debtor_name, data.account) == ("Иванов Иван Иванович", "100001")
    assert data.court.startswith("Мировому судье")
    assert data.creditor == "УК «Пример»"


def test_the_pdf(registry: Storage, tmp_path: Path) -> None:
    content = render_claim_pdf(claim(registry), TEMPLATE)
    assert content.startswith(b"%PDF")
    (tmp_path / "claim.pdf").write_bytes(content)
    reader = PdfReader(io.BytesIO(content))
    assert len(reader.pages) >= 2
    application = reader.pages[0].extract_text().replace("\xa0", " ")
    assert "ЗАЯВЛЕНИЕ" in application and "о вынесении судебного приказа" in application
    text = pdf_text(content)
    for expected in (
        "Иванов Иван Иванович",
        "Лицевой счёт № 100001",
        "13 000,00 руб.",
        "Тринадцать тысяч рублей ноль копеек",
        "213,60 руб.",
        "13 213,60 руб.",
        "2 000,00 руб.",
        "с 01.10.2026 по 30.11.2026",
        "Мировому судье судебного участка № 3",
        "Расчёт задолженности и пеней",
        "10 345,67",
        "204,84",
        "1/300",
        "16,5 %",
        "Итого к взысканию",
        "отнесена к 10.2026",
    ):
        assert expected in text, expected
    assert "{" not in text


def test_the_docx(registry: Storage) -> None:
    content = render_claim_docx(claim(registry), TEMPLATE)
    document = docx.Document(io.BytesIO(content))
    paragraphs = [p.text for p in document.paragraphs]
    assert "ЗАЯВЛЕНИЕ" in paragraphs and "о вынесении судебного приказа" in paragraphs
    body = "\n".join(paragraphs)
    for expected in (
        "Иванов Иван Иванович",
        "100001",
        "13 213,60 руб.",
        "2 000,00 руб.",
        "Расчёт задолженности",
    ):
        assert expected.replace(" ", "\xa0") in body or expected in body, expected
    principal, penalties = document.tables
    assert [c.text for c in principal.rows[0].cells] == [
        "Период",
        "Начислено, руб.",
        "Оплачено, руб.",
        "Остаток долга, руб.",
    ]
    assert [c.text for c in principal.rows[1].cells] == [
        "10.2026",
        "12\xa0345,67",
        "2\xa0000,00",
        "10\xa0345,67",
    ]
    assert principal.rows[-1].cells[0].text == "Итого"
    assert [c.text for c in penalties.rows[1].cells] == [
        "10.2026", "10\xa0345,67", "11.12.2026", "15.01.2027", "36", "1/300", "16,5\xa0%", "204,84",
    ]  # fmt: skip
    assert penalties.rows[-1].cells[-1].text == "213,60"


def test_the_lawyers_charges_and_the_amount_of_the_case(registry: Storage) -> None:
    with registry.sessions.begin() as session:
        case_of(session, registry.organisation_id, 1).amount_claimed = Decimal("11000.00")
    charges = parse_charges_file(
        "period;amount\n2026-09;5 000,00\n2026-10;5 000,00\n2026-11;3 000,00\n", "выписка.csv"
    )
    data = claim(registry, charges=charges)
    assert not data.charges.reconstructed
    # the payment of 20.11 settles September's 2 000 first
    september = data.calculation.charges[0]
    assert (september.charge.period, september.paid) == (
        date(2026, 9, 1),
        Decimal("2000.00"),
    )
    assert data.principal == Decimal("11000.00")
    assert data.total == Decimal("11000.00") + data.penalty
    assert data.period_from == date(2026, 9, 1)
    assert "выписка.csv" in pdf_text(render_claim_pdf(data, TEMPLATE))


def test_a_claim_above_the_court_order_limit_is_refused(registry: Storage) -> None:
    with registry.sessions.begin() as session:
        case_of(session, registry.organisation_id, 1).amount_claimed = Decimal("600000.00")
    with pytest.raises(ClaimError, match=r"ГПК РФ ст\. 121"):
        claim(registry)


def test_the_cli(registry: Storage, settings: Settings, tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    add_claim_parsers(parser.add_subparsers(dest="command"))
    for name in ("claim.pdf", "claim.docx"):
        out = tmp_path / name
        args = parser.parse_args(["claim", "1", "--out", str(out), "--date", "2027-01-15"])
        assert CLAIM_COMMANDS["claim"](args, settings) == 0
        assert out.stat().st_size > 1000
    own = tmp_path / "mine.txt"
    own.write_text(TEMPLATE.replace("{court}", "{court}\n>> {judge}"), encoding="utf-8")
    args = parser.parse_args(["claim", "1", "--out", str(tmp_path / "x.pdf"), "--template", str(own)])
    line = TEMPLATE.splitlines().index(">> {court}") + 2
    with pytest.raises(ClaimTemplateError, match=rf"mine\.txt, line {line}: unknown placeholder \{{judge\}}"):
        CLAIM_COMMANDS["claim"](args, settings)
    with pytest.raises(Exception, match=r"\.pdf or \.docx"):
        CLAIM_COMMANDS["claim"](parser.parse_args(["claim", "1", "--out", str(tmp_path / "x.odt")]), settings)
    url = registry.engine.url.render_as_string(hide_password=False)
    wired = tmp_path / "wired.pdf"
    assert main(["--database-url", url, "claim", "1", "--out", str(wired), "--date", "2027-01-15"]) == 0
    assert wired.read_bytes().startswith(b"%PDF")


# --- the template ------------------------------------------------------------------------------------

MINIMAL = (
    "{court} {creditor} {debtor_name} {debtor_address} {account}\n"
    "{principal} {penalty} {total} {state_fee}\n{attachments}\n"
)


def test_the_template_markup() -> None:
    text = (
        "// a comment\ncreditor: ООО «УК Полное имя»\ninn: 6600000000\n---\n>> {court}\n>> {creditor}\n\n"
        "# ЗАЯВЛЕНИЕ\n\nfirst {debtor_name}\nsecond {inn}\n\n" + MINIMAL
    )
    template = parse_template(text)
    assert template.header == {"creditor": "ООО «УК Полное имя»", "inn": "6600000000"}
    kinds = [(b.kind, b.text, b.line) for b in template.blocks]
    assert kinds[:3] == [
        ("right", "{court}\n{creditor}", 5),
        ("heading", "ЗАЯВЛЕНИЕ", 8),
        ("paragraph", "first {debtor_name} second {inn}", 10),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL + "{judge}\n", r"template, line 4: unknown placeholder \{judge\}"),
        (MINIMAL + "{principal:.2f}\n", r"line 4: \{principal\} takes no format"),
        (MINIMAL + "a { b\n", r"line 4: an unmatched «\{» or «\}»"),
        (MINIMAL.replace("{state_fee}", ""), r"the template has no \{state_fee\} placeholder"),
        ("inn 660\n---\n" + MINIMAL, r"line 1: expected a header line «key: value»"),
        ("account: 1\n---\n" + MINIMAL, r"line 1: the header cannot set 'account'"),
    ],
)
def test_template_errors(text: str, message: str) -> None:
    with pytest.raises(ClaimTemplateError, match=message):
        parse_template(text)


def test_the_shipped_template_is_valid() -> None:
    assert parse_template(TEMPLATE, str(TEMPLATE_PATH)).blocks


# --- the state fee (НК РФ ст. 333.19 п. 1 пп. 1 and 2, from 09.09.2024), computed by hand ----------------


@pytest.mark.parametrize(
    ("price", "claim_fee", "order_fee"),
    [
        ("0.01", "4000", "2000.00"),
        ("13213.60", "4000", "2000.00"),
        ("100000", "4000", "2000.00"),
        ("100001", "4000.03", "2000.02"),  # 4 000 + 3 % × 1 = 4 000,03; half 2 000,015 → 2 000,02
        ("150000", "5500", "2750.00"),  # 4 000 + 3 % × 50 000
        ("123456.78", "4703.7034", "2351.85"),  # 4 000 + 3 % × 23 456,78
        ("300000", "10000", "5000.00"),  # 4 000 + 3 % × 200 000
        ("400000", "12500", "6250.00"),  # 10 000 + 2,5 % × 100 000
        ("500000", "15000", "7500.00"),
        ("750000", "20000", "10000.00"),  # 15 000 + 2 % × 250 000
        ("1000000", "25000", "12500.00"),
    ],
)
def test_the_state_fee(price: str, claim_fee: str, order_fee: str) -> None:
    assert claim_state_fee(Decimal(price)) == Decimal(claim_fee)
    assert court_order_state_fee(Decimal(price)) == Decimal(order_fee)


@pytest.mark.parametrize(("price", "message"), [("1000000.01", "above 1 000 000"), ("0", "must be positive")])
def test_the_state_fee_refuses(price: str, message: str) -> None:
    with pytest.raises(StateFeeError, match=message):
        court_order_state_fee(Decimal(price))
