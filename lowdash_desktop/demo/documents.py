"""Account documents of the demo platform: top-ups, invoices and their PDF rendering."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from lowdash_desktop.demo import catalog
from lowdash_desktop.demo.data import DemoData, iso_ms, money

CENT = Decimal("0.01")
VAT_RATE = Decimal("0.20")
SELLER = {
    "name": "Lowrouter SAS",
    "address": "12 rue de la Gaîté, 75014 Paris, France",
    "vat_id": "FR47912345678",
    "country": "FR",
}
BUYER = {
    "name": "株式会社ロウダッシュ (Lowdash KK)",
    "address": "〒150-0002 東京都渋谷区渋谷2-21-1",
    "vat_id": "JP-T1234567890123",
    "country": "JP",
}


def _ms(dt: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return int(dt.timestamp() * 1000)


def _month_start(year: int, month: int) -> datetime:
    """First instant of a UTC month (month may over/underflow)."""
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=UTC)


def build_topups(data: DemoData, rng: random.Random) -> list[dict]:
    """Top-ups over the history, newest first, covering the spend with some headroom."""
    total = Decimal(money(int(data.cost.sum())))
    count = rng.randint(8, 14)
    start_ms = data.now_ms - 95 * 86_400_000
    step = (data.now_ms - start_ms) // count
    chunk = max(Decimal("10"), (total * Decimal("1.3") / count).quantize(Decimal("10")))
    out = []
    draws, times = [], []
    for i in range(count):
        created = start_ms + i * step + rng.randint(0, step // 2)
        status = "succeeded"
        if i == count - 2:
            status = "failed"
        elif i == count - 1:
            status = "pending"
        method = rng.choice(("card", "card", "sepa_debit", "bank_transfer"))
        topup_id = f"top_{rng.getrandbits(48):012x}"
        draws.append(chunk + 10 * rng.randint(0, 5))
        times.append(created)
        out.append(
            {
                "id": topup_id,
                "created_at": iso_ms(created),
                "amount": "",
                "currency": "EUR",
                "method": method,
                "status": status,
                "receipt_url": f"https://billing.lowrouter.example/receipts/{topup_id}",
            }
        )
    for item, amount in zip(out, _amounts(data, times, draws, count - 2), strict=True):
        item["amount"] = f"{amount}.00"
    out.reverse()
    return out


def _amounts(
    data: DemoData, times: list[int], draws: list[Decimal], succeeded: int
) -> list[int]:
    """Top-up amounts in tens of euros: the first `succeeded` of them pay for the whole
    history plus a balance that lasts some six weeks at this week's pace (so the runway reads
    weeks to months, not years), each about the spend until the next one (give or take the
    drawn proportions); the failed and pending ones ask for what the last paid one did."""
    day = 86_400_000
    week = data.cost_between(data.now_ms - 7 * day, data.now_ms) / 7 / 1e9  # EUR per day
    lasts = random.Random(f"lowdash-demo-runway:{data.seed}").uniform(38.0, 56.0)
    paid = int(data.cost.sum()) / 1e9 + week * lasts
    ends = [*times[1:succeeded], data.now_ms]
    spends = [data.cost_between(t, e) / 1e9 for t, e in zip(times, ends, strict=False)]
    mean_draw = float(sum(draws)) / len(draws)
    weights = [(s + paid / 40) * float(d) / mean_draw for s, d in zip(spends, draws, strict=False)]
    scale = paid / sum(weights)
    tens = [max(1, round(w * scale / 10)) * 10 for w in weights]
    tens += [tens[-1]] * (len(draws) - succeeded)
    rest = paid - sum(tens[: succeeded - 1])
    tens[succeeded - 1] = max(10, round(rest / 10) * 10)  # the latest paid top-up evens it out
    return tens


def build_invoices(data: DemoData, rng: random.Random) -> list[dict]:
    """Monthly invoices for the three months before the current one, newest first."""
    now = data.now
    invoices = []
    for back in (3, 2, 1):
        start = _month_start(now.year, now.month - back)
        end = _month_start(now.year, now.month - back + 1)
        usage = data.monthly_by_model(_ms(start), _ms(end))
        lines = [
            _usage_line(model_id, req, nano) for model_id, (req, nano) in sorted(usage.items())
        ]
        if back == 2:
            lines += _daily_fee_lines(start.date(), end.date())
        subtotal = sum((Decimal(line["amount"]) for line in lines), Decimal("0.00"))
        tax = (subtotal * VAT_RATE).quantize(CENT, ROUND_HALF_UP)
        number = f"LR-{start.year}-{start.month:02d}{rng.randint(100, 999)}"
        invoices.append(
            {
                "id": f"inv_{start:%Y%m}_{rng.getrandbits(32):08x}",
                "number": number,
                "period_start": start.date().isoformat(),
                "period_end": (end.date() - timedelta(days=1)).isoformat(),
                "issued_at": iso_ms(_ms(end + timedelta(hours=6))),
                "status": "open" if back == 1 else "paid",
                "currency": "EUR",
                "subtotal": str(subtotal.quantize(CENT)),
                "tax": str(tax),
                "total": str((subtotal + tax).quantize(CENT)),
                "lines": lines,
                "seller": dict(SELLER),
                "buyer": dict(BUYER),
            }
        )
    invoices.reverse()
    return invoices


def _usage_line(model_id: str, requests: int, nano: int) -> dict:
    """One invoice line: a model's requests at their average unit price."""
    model = catalog.MODEL_BY_ID[model_id]
    unit = (Decimal(nano) / Decimal(requests) / Decimal(1_000_000_000)).quantize(
        Decimal("0.000000001"), ROUND_HALF_UP
    )
    amount = (unit * requests).quantize(CENT, ROUND_HALF_UP)
    return {
        "description": f"{model.name} ({model_id}) — inference requests",
        "quantity": str(requests),
        "unit_price": str(unit),
        "amount": str(amount),
    }


def _daily_fee_lines(first: date, end: date) -> list[dict]:
    """Two fixed-fee lines per day, which make this invoice long (60+ lines)."""
    lines = []
    day = first
    while day < end:
        for label, price in (("Routing platform fee", "0.50"), ("Eco reporting add-on", "0.10")):
            lines.append(
                {
                    "description": f"{label} — {day.isoformat()}",
                    "quantity": "1",
                    "unit_price": price,
                    "amount": price,
                }
            )
        day += timedelta(days=1)
    return lines


def _pdf_escape(text: str) -> str:
    """Escape a string for a PDF literal (ASCII only)."""
    text = text.encode("ascii", "replace").decode("ascii")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def invoice_pdf(invoice: dict) -> bytes:
    """A small, valid one-page PDF summarizing an invoice."""
    rows = [
        f"Lowrouter invoice {invoice['number']}",
        f"Period {invoice['period_start']} to {invoice['period_end']}",
        f"Subtotal {invoice['subtotal']} {invoice['currency']}",
        f"Tax {invoice['tax']} {invoice['currency']}",
        f"Total {invoice['total']} {invoice['currency']}",
        f"Lines: {len(invoice['lines'])}",
    ]
    ops = ["BT", "/F1 12 Tf", "72 760 Td", "16 TL"]
    ops += [f"({_pdf_escape(row)}) Tj T*" for row in rows]
    ops.append("ET")
    stream = "\n".join(ops).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)
