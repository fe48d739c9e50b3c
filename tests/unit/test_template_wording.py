"""Every chat template, in every locale, with every count: plurals, codes, dates read right.

`samples(n)` holds the values each template is rendered with, every count set to `n`;
a template added without a sample here fails `test_every_template_has_a_sample`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace as Obj
from typing import Any

import pytest

from bot.period_figures import FIGURES, KeyFigure
from bot.program_report import program_summary
from domain.program import Action, Challenge, Promotion, StampCard
from domain.program_file import default_program_path, load_program
from domain.segments import Segment
from messages.render import HERE, locales, render, render_text

COUNTS = (0, 1, 2, 5, 21)
MEMBER_CODE, VOUCHER_CODE = "k7m2q9xr", "ZX23ZX45ZX67"  # as stored or typed: never as shown
SHOWN_MEMBER_CODE, SHOWN_VOUCHER_CODE = "K7M2-Q9XR", "ZX23-ZX45-ZX67"
MOMENT = datetime(2027, 1, 3, 2, 30, tzinfo=UTC)  # still Jan 2 in New York
PROGRAM = load_program(default_program_path())
TREES = PROGRAM.causes[0]
Sample = dict[str, Any]


def samples(n: int) -> dict[str, list[Sample]]:
    """What each template is rendered with (one or more variants), every count being `n`."""
    member = Obj(
        code=MEMBER_CODE,
        first_name="Ann <3",
        tier="Insider",
        name="Ann",
        joined_at=MOMENT,
        phone="+15550001234",
        marketing_opt_in=True,
        reminders_opt_in=False,
        surveys_opt_in=True,
    )
    progress = Obj(tier="Insider", next_tier="Prime", percent=40, credits_needed=n)
    summary = Obj(
        member=member,
        balance=n,
        progress=progress,
        expiring_points=n,
        expiring_first=MOMENT,
        next_reward=Obj(title="Free coffee", titles=(), cost=2 * n),
    )
    reward = PROGRAM.rewards[0]
    voucher = Obj(code=VOUCHER_CODE, reward_id=reward.id, expires_at=MOMENT, used_at=MOMENT)
    entry = Obj(
        reward=Obj(title="Tote", titles=(), cost=n, valid_days=n, min_tier="Insider"),
        blocked_by=None,
        affordable=False,
        stock_left=n,
    )
    cause = Obj(cause=TREES, points=n, percent=3, impact=n)
    broadcast_progress = Obj(sent=n, total=n, blocked=n, failed=n, cancelled=n)
    answer = {
        "receipt_id": "R-1001",
        "member_code": MEMBER_CODE,
        "points_awarded": n,
        "balance": n,
        "tier": "Insider",
        "held_for_phone": "+15550001234",
    }
    breakdown = [
        {"reason": "spend", "detail": "shoes", "points": f"{n}.00"},
        {"reason": "visit", "detail": "", "points": "5.00"},
        {"reason": "promotion", "detail": "happy-hour", "points": f"{n}.00"},
        {"reason": "tier_multiplier", "detail": "Insider", "points": "1.25"},
    ]
    earned = {
        "receipt_id": "R-1001",
        "member_code": MEMBER_CODE,
        "points_awarded": n,
        "tier_credits": n,
        "balance": n,
        "tier": "Insider",
        "breakdown": breakdown,
    }
    cards = (
        StampCard("coffee-card", "Coffee card", 6, "coffee", categories=("coffee",)),
        StampCard("visits", "Visits", 30, "tote", per="receipt"),
    )
    stamp_voucher = {"reward": "coffee", "code": VOUCHER_CODE, "expires_on": "2027-01-02"}
    stamped = {
        "round_up": {"cause": TREES.id, "kept": n, "donated": n},
        "stamps": [
            {"card": "coffee-card", "earned": n, "stamps": n % 6, "count": 6, "vouchers": []},
            {
                "card": "visits",
                "earned": n,
                "stamps": n % 30,
                "count": 30,
                "vouchers": [stamp_voucher, {**stamp_voucher, "code": None}],
            },
        ],
    }
    promotion = Promotion(
        "happy-hour",
        "Happy hour",
        datetime(2027, 1, 1),
        datetime(2027, 2, 1),
        categories=("coffee",),
        multiplier=Decimal(2),
        bonus=n,
        min_spend=Decimal(n),
    )
    offer = Obj(promotion=promotion, starts=datetime(2027, 1, 4, 16), ends=datetime(2027, 1, 4, 18))
    night = Obj(
        promotion=replace(promotion, multiplier=None, bonus=n + 1, categories=()),
        starts=datetime(2027, 1, 8, 22),
        ends=datetime(2027, 1, 9, 2),
    )
    segments = [
        Segment(),
        Segment(locale="es"),
        Segment(inactive_days=n, min_balance=n),
        Segment(tier="Insider", category="shoes", locale="en", inactive_days=n, min_balance=n),
    ]
    review = Action(
        "review", "Review us", "link", points=n, url="https://example.com/r", approval=True
    )
    actions = [
        Action("news", "Join our channel", "telegram_channel", points=n, channel="@northwind_news"),
        review,
        Action("phone", "Share your phone", "phone", points=n),
        Action("birthday", "Birthday treat", "birthday", points=n, reward="coffee"),
    ]
    claimed = [
        Obj(new=new, status=status, points=n, balance=n)
        for new, status in (
            (True, "paid"),
            (True, "pending"),
            (False, "paid"),
            (False, "pending"),
            (False, "rejected"),
        )
    ]
    places = [
        Obj(rank=rank, shown=shown, named=named, value=n, mine=rank == 2)
        for rank, shown, named in (
            (1, "Ann <3", True),
            (2, "K7••-••XR", False),
            (4, "K7••-••XR", False),
        )
    ]
    boards = [
        Obj(metric=metric, month=MOMENT, top=places[:2], own=own)
        for metric in ("points", "purchases")
        for own in (places[1], places[2], None)
    ]
    challenges = [
        Challenge(kind, kind.title(), kind, Decimal(n), categories=cats, days=7, bonus=n, reward=r)
        for kind, cats, r in (
            ("purchases", (), None),
            ("spend", ("shoes",), "coffee"),
            ("categories", (), None),
            ("streak", (), "coffee"),
            ("referrals", (), None),
        )
    ]
    challenge_news = [
        {
            "challenge": c.id,
            "kind": c.kind,
            "current": str(n),
            "target": str(2 * n),
            "last_day": "2027-01-31",
            "program": PROGRAM,
        }
        for c in challenges
    ]
    window = Obj(starts=MOMENT, ends=MOMENT)
    challenge_rows = [
        Obj(
            standing=Obj(challenge=c, completed=completed, window=w, progress=p),
            bar="▰▱",
            days_left=days,
            hours_left=n,
            last_day=MOMENT,
        )
        for c in challenges
        for completed, w, p, days in (
            (True, window, Obj(current=n), n),
            (False, None, None, 0),
            (False, window, None, 0),
            (False, window, Obj(current=n), n),
            (False, window, Obj(current=n), 0),
        )
    ]
    return {
        "action_approved": [{"action": "review", "points": n, "balance": n, "program": PROGRAM}],
        "action_check": [
            {"outcome": "not_in", "channel": "@northwind_news"},
            {"outcome": "cannot"},
        ],
        "action_claimed": [{"claimed": c} for c in claimed],
        "action_rejected": [{"action": "review"}],
        "challenge_completed": [
            {
                "challenge": "week",
                "points": n,
                "balance": n,
                "reward": reward,
                "code": code,
                "expires_at": expires,
                "program": PROGRAM,
            }
            for reward, code, expires in (("coffee", VOUCHER_CODE, MOMENT.isoformat()), (None,) * 3)
        ],
        "challenge_goal": [{}],
        "challenge_halfway": challenge_news,
        "challenge_join_button": [{"challenge": c} for c in challenges],
        "challenge_joined": [{"challenge": challenges[0], "new": new} for new in (True, False)],
        "challenges": [
            {"rows": challenge_rows, "program": PROGRAM, "currency": "USD"},
            {"rows": [], "program": PROGRAM, "currency": "USD"},
        ],
        "nudge_challenge_ending": challenge_news,
        "birthday_bonus": [
            {
                "points": n,
                "balance": n,
                "reward": "coffee",
                "code": VOUCHER_CODE,
                "expires_at": MOMENT.isoformat(),
                "program": PROGRAM,
            },
            {"points": n, "balance": n, "reward": None, "code": None, "expires_at": None},
        ],
        "birthday_locked": [{"birthday": date(2000, 12, 24), "since": MOMENT}],
        "birthday_pick": [
            {"month": None, "day": None, "month_name": ""},
            {"month": 12, "day": None, "month_name": "December"},
            {"month": 12, "day": date(2000, 12, 24), "month_name": "December"},
        ],
        "claim_decided": [
            {
                "decision": Obj(
                    status="paid", member=member, points=n, claim=Obj(action_id="review")
                )
            },
            {
                "decision": Obj(
                    status="rejected", member=None, points=0, claim=Obj(action_id="review")
                )
            },
        ],
        "claim_decided_before": [{"status": "paid"}, {"status": "rejected"}],
        "claim_notice": [{"member": member, "action": review}],
        "claims_none": [{}],
        "earn": [
            {
                "overview": Obj(
                    actions=[Obj(action=a, status=status) for a in actions],
                    birthday=None,
                    has_phone=False,
                ),
                "program": PROGRAM,
                "rules": PROGRAM.referrals,
                "earning": PROGRAM.earning,
                "share_label": "📱 Share my phone number",
                "birthday": birthday,
            }
            for status in (None, "paid", "pending", "rejected")
            for birthday in (None, date(2000, 12, 24))
        ],
        "earn_open": [
            {"kind": "telegram_channel", "target": "@northwind_news"},
            {"kind": "link", "target": "instagram.com"},
        ],
        "top": [{"board": board, "named": named} for board in boards for named in (False, True)],
        "top_off": [{}],
        "offers": [
            {"program": PROGRAM, "running": [offer], "soon": [offer, night]},
            {"program": PROGRAM, "running": [], "soon": []},
        ],
        "promotion_effect": [{}],
        "promotion_started": [
            {
                "program": PROGRAM,
                "promotion": "happy-hour",
                "gives": {
                    "multiplier": multiplier,
                    "bonus": n,
                    "categories": ["coffee"],
                    "skus": [],
                    "min_spend": "5.00",
                },
                "last_day": "2027-01-31",
            }
            for multiplier in (None, "2")
        ],
        "adjust_usage": [{}],
        "adjusted": [
            {"member": member, "points": n, "balance": n},
            {"member": member, "points": -n, "balance": n},
        ],
        "balance": [{"summary": summary, "p": progress, "bar": "▰▱"}],
        "broadcast_ask_button": [{"rewards": PROGRAM.rewards}],
        "broadcast_ask_message": [{}],
        "broadcast_confirm": [{"segment": s, "total": n} for s in segments],
        "broadcast_refusal": [{"detail": "segment"}, {"detail": "too long"}],
        "broadcast_segment": [{"segment": s, "total": n} for s in segments],
        "broadcast_status": [
            {
                "id": 7,
                "p": broadcast_progress,
                "state": "running",
                "seconds_left": n,
                "reason": None,
            }
        ],
        "broadcast_queued": [{"id": n}],
        "broadcast_stopped": [{"id": 7, "stopped": n}],
        "broadcasts": [
            {"broadcasts": [(Obj(id=7, created_at=MOMENT, state=state), broadcast_progress)]}
            for state in ("running", "done", "cancelled")
        ],
        "cancelled": [{}],
        "card": [{"program": PROGRAM, "code": MEMBER_CODE, "summary": summary}],
        "causes": [
            {"balance": n, "causes": [cause], "bars": {TREES.id: "▰▱"}, "round_up": rounding}
            for rounding in (None, TREES)
        ],
        "chart_texts": [{"currency": "EUR"}],
        "commands": [{}],
        "dashboard_button": [{}],
        "dashboard_link": [{"minutes": n}],
        "dashboard_off": [{}],
        "donate_amount": [{"cause": TREES, "balance": n, "round_up_to": n}],
        "donate_round_up": [{"cause": TREES, "round_up_to": n, "example": Obj(kept=n, donated=n)}],
        "donate_confirm": [{"points": n, "cause": TREES, "impact": n}],
        "donate_thanks": [
            {
                "outcome": Obj(
                    points=n, cause=TREES, member_impact=n, progress=Obj(percent=4), balance=n
                )
            }
        ],
        "error": [{}],
        "forget_confirm": [{"balance": n}],
        "forgotten": [{}],
        "friend_joined": [{"qualify_on": "join"}, {"qualify_on": "first_purchase"}],
        "friend_qualified": [{"bonus": n}],
        "gift_received": [
            {"gift": Obj(voucher=voucher, reward=reward)},
            {"gift": Obj(voucher=None, points=n, balance=n)},
        ],
        "help": [
            {
                "program": PROGRAM,
                "commands": [("card", "your card")],
                "staff": [("sale", "record a sale")],
            }
        ],
        "history": [
            {
                "page": Obj(
                    page=1,
                    pages=n or 1,
                    records=[
                        Obj(created_at=MOMENT, kind="purchase", reason=None, points=n),
                        Obj(created_at=MOMENT, kind="adjustment", reason="sorry", points=-n),
                    ],
                ),
                "kinds": {"purchase": "Purchase", "adjustment": "Adjustment"},
            }
        ],
        "invite": [
            {
                "link": "https://t.me/bot?start=r-ABCD2345",
                "rules": PROGRAM.referrals.__class__(n, n, "first_purchase", 10, ()),
                "stats": Obj(joined=n, rewarded=n, next_milestone=milestone),
                "program": PROGRAM,
            }
            for milestone in (
                Obj(count=n, bonus=n, reward=None),
                Obj(count=n, bonus=n, reward="coffee"),
                Obj(count=n, bonus=0, reward="coffee"),
            )
        ],
        "invite_share": [{"program": PROGRAM, "bonus": n}],
        "labels": [{}],
        "language_changed": [{}],
        "member_summary": [{"summary": summary, "p": progress}],
        "milestone_reached": [
            {"count": n, "bonus": n},
            {
                "count": n,
                "bonus": 0,
                "reward": "coffee",
                "code": VOUCHER_CODE,
                "expires_at": MOMENT.isoformat(),
                "program": PROGRAM,
            },
        ],
        "not_joined": [{"program": PROGRAM}],
        "nudge_inactive": [
            {"days": n, "category": "shoes", "reward": "Free coffee", "points_needed": n}
        ],
        "nudge_near_next_tier": [{"tier": "Prime", "credits_needed": n}],
        "nudge_points_expiring": [{"points": n, "date": "2026-03-09", "balance": n}],
        "nudge_referral_reminder": [{"bonus": n, "friend_bonus": n}],
        "nudge_reward_affordable": [{"reward": "Free coffee", "cost": n, "balance": n}],
        "phone_invalid": [{}],
        "phone_not_yours": [{}],
        "phone_saved": [
            {"phone": "+15550001234", "receipts": n, "points": n, "action": action}
            for action in (None, Obj(points=n, balance=n))
        ],
        "phone_taken": [{}],
        "points_adjusted": [
            {"points": n, "reason": "sorry", "balance": n},
            {"points": -n, "reason": "sorry", "balance": n},
        ],
        "points_earned": [earned, {**earned, **stamped}],
        "stamps": [
            {"program": PROGRAM, "cards": [(card, n % card.count) for card in cards]},
            {"program": PROGRAM, "cards": []},
        ],
        "points_expired": [{"points": n, "balance": n}],
        "private_only": [{"bot_username": "northwind_bot"}],
        "referral_unknown": [{}],
        "refusal": [{"reason": "insufficient_points", "needed": n}, {"reason": "limit"}],
        "reward_button": [{"reward": reward}],
        "reward_detail": [{"e": entry, "balance": 0}],
        "rewards": [{"balance": n, "entries": [entry]}],
        "sale_ask_amount": [
            {"member": member, "phone": None, "currency": "USD"},
            {"member": None, "phone": "+15550001234", "currency": "USD"},
        ],
        "sale_ask_category": [{"amount": Decimal(n), "currency": "USD"}],
        "sale_ask_member": [{}],
        "sale_confirm": [
            {
                "member": member,
                "phone": None,
                "amount": Decimal(n),
                "currency": "USD",
                "category": "Shoes",
                "points": n,
            }
        ],
        "sale_done": [
            {
                "answer": answer,
                "held": held,
                "replayed": False,
                "amount": Decimal(n),
                "currency": "USD",
            }
            for held in (False, True)
        ]
        + [
            {
                "answer": {**answer, **stamped},
                "held": False,
                "replayed": False,
                "amount": Decimal(n),
                "currency": "USD",
                "program": PROGRAM,
            }
        ],
        "scanner_button": [{}],
        "segment": [{"segment": s} for s in segments],
        "settings": [
            {
                "member": member,
                "language": "English",
                "timezone": "Europe/Madrid",
                "has_birthday": has_birthday,
                "birthday": birthday,
                "named": named,
            }
            for has_birthday, birthday, named in (
                (False, None, None),
                (True, None, False),
                (True, date(2000, 2, 29), True),
            )
        ],
        "staff_commands": [{}],
        "staff_invite": [{"link": "https://t.me/bot?start=s-abc"}],
        "staff_invite_invalid": [{}],
        "staff_list": [{"staff": [Obj(name="Bo", telegram_id=42, added_at=MOMENT)]}],
        "staff_remove_pick": [{"staff": [member]}],
        "staff_removed": [{"member": member}],
        "staff_usage": [{}],
        "staff_welcome": [{"program": PROGRAM}],
        "surprise_bonus": [{"points": n, "balance": n}],
        "survey_answered": [{}],
        "survey_comment_thanks": [{}],
        "survey_feedback": [
            {
                "comments": [
                    Obj(
                        created_at=MOMENT,
                        member_code=code,
                        question=question,
                        score=n % 6,
                        text="Cold <coffee>",
                    )
                    for code, question in (
                        (MEMBER_CODE, "csat"),
                        (None, "ces"),
                        (MEMBER_CODE, "nps"),
                    )
                ]
            },
            {"comments": []},
        ],
        "survey_question": [
            {"kind": kind, "index": 0, "count": count}
            for kind in ("csat", "ces", "nps")
            for count in (1, 2)
        ],
        "stats": [
            {
                "days": n,
                "since": MOMENT.date(),
                "last": MOMENT.date(),
                "before_since": MOMENT.date(),
                "before_last": MOMENT.date(),
                "figures": stat_figures(n),
                "currency": "USD",
            }
        ],
        "stats_value": [{"f": figure, "currency": "USD"} for figure in stat_figures(n)],
        "survey_thanks": [
            {"points": n, "balance": n, "comment": comment} for comment in (False, True)
        ],
        "tier_down": [{"tier": "Member", "previous": "Insider"}],
        "tier_up": [{"tier": "Prime"}],
        "till_ask_member": [{}],
        "till_ask_voucher": [{}],
        "till_refusal": [{"reason": "insufficient", "available": n}, {"reason": "amount"}],
        "timezone_invalid": [{"text": "Mars/Olympus"}],
        "timezone_prompt": [{}],
        "typed_refusal": [
            {
                "refusal": Obj(reason=reason, minimum=1, maximum=n, decimals=2, signed=False),
                "currency": None,
            }
            for reason in ("too_large", "too_small", "amount", "whole")
        ],
        "unknown": [{}],
        "unreadable_text": [{}],
        "voucher_check": [
            {"voucher": voucher, "reward": reward, "state": state}
            for state in ("active", "used", "expired")
        ],
        "voucher_issued": [
            {"reward": reward, "voucher": voucher, "code": VOUCHER_CODE, "balance": n}
        ],
        "voucher_state": [{"state": "used"}],
        "vouchers": [
            {
                "vouchers": [
                    {
                        "code": VOUCHER_CODE,
                        "reward_id": reward.id,
                        "state": state,
                        "expires_at": MOMENT,
                        "used_at": MOMENT,
                    }
                    for state in ("active", "used", "expired")
                ],
                "program": PROGRAM,
            }
        ],
        "welcome": [{"program": PROGRAM, "name": "Ann", "bonus": n, "referral": "attributed"}],
        "welcome_back": [{"name": "Ann", "balance": n, "referral": "own_code"}],
        "welcome_returning": [{"program": PROGRAM, "name": "Ann", "referral": "returning"}],
    }


def stat_figures(n: int) -> list[KeyFigure]:
    """Each /stats figure risen to `n`, and each with no value before."""
    return [
        KeyFigure(key, kind, value, before, trend)
        for key, kind, _ in FIGURES
        for value, before, trend in ((Decimal(n), Decimal(0), "up"), (Decimal(n), None, None))
    ]


def template_names() -> list[str]:
    return sorted(path.stem for path in (HERE / "en").glob("*.j2"))


def rendered(locale: str, n: int) -> dict[str, list[str]]:
    """Every template's variants as a member in New York reads them."""
    return {
        name: [render(name, locale, zone="America/New_York", **context) for context in variants]
        for name, variants in samples(n).items()
    }


# A count next to the noun it counts, optionally with a word between: "1 more point".
NOUNS = {
    "en": {
        "point": "points",
        "member": "members",
        "day": "days",
        "friend": "friends",
        "credit": "credits",
        "message": "messages",
        "purchase": "purchases",
        "tree": "trees",
        "meal": "meals",
    },
    "es": {
        "punto": "puntos",
        "socio": "socios",
        "día": "días",
        "amigo": "amigos",
        "crédito": "créditos",
        "mensaje": "mensajes",
        "compra": "compras",
        "tree": "trees",
        "meal": "meals",
    },
}
BETWEEN = r"(?:(?:more|extra|earlier|tier) )?"


def wrong_forms(text: str, locale: str) -> list[str]:
    """Counts followed by the wrong form of their noun ("1 points", "5 punto")."""
    nouns = NOUNS[locale]
    plurals = {plural: singular for singular, plural in nouns.items()}
    wrong = []
    for found in re.finditer(rf"(?<![\d.,])(\d[\d.,]*) {BETWEEN}(\w+)", text):
        number, noun = found.group(1), found.group(2)
        if (number == "1" and noun in plurals) or (number != "1" and noun in nouns):
            wrong.append(found.group(0))
    return wrong


def test_the_checker_catches_what_the_issue_found():
    assert wrong_forms("You have 1 points and 2 × tree, 5 more point", "en") == [
        "1 points",
        "5 more point",
    ]
    assert wrong_forms("Te faltan 1 puntos; 21 amigo", "es") == ["1 puntos", "21 amigo"]
    assert wrong_forms("1 point, 0 points, 1,000 points, 2 tier credits", "en") == []


def test_every_template_has_a_sample():
    assert sorted(samples(1)) == template_names()


@pytest.mark.parametrize("locale", locales())
@pytest.mark.parametrize("n", COUNTS)
def test_every_count_reads_right(locale: str, n: int):
    for name, texts in rendered(locale, n).items():
        for text in texts:
            assert "(s)" not in text, name
            assert not re.search(r"\d × [^\d(]", text), name
            assert wrong_forms(text, locale) == [], name


@pytest.mark.parametrize("locale", locales())
def test_plurals_follow_the_locale(locale: str):
    one, five = rendered(locale, 1), rendered(locale, 5)
    if locale == "en":
        assert "⭐ <b>1</b> point\n" in one["balance"][0]
        assert "1 more tier credit to reach" in one["balance"][0]
        assert "⭐ <b>5</b> points\n" in five["balance"][0]
        assert "1 tree so far" in one["causes"][0]
        assert "5 trees so far" in five["causes"][0]
        assert "🌟 1 friend has joined" in one["milestone_reached"][0]
        assert "It has been 1 day since" in one["nudge_inactive"][0]
        assert "valid for 5 days" in five["reward_detail"][0]
    if locale == "es":
        assert "Te falta 1 crédito de nivel" in one["balance"][0]
        assert "Te faltan 5 créditos de nivel" in five["balance"][0]
        assert "Ha pasado 1 día desde" in one["nudge_inactive"][0]
        assert "1 tree hasta ahora" in one["causes"][0]
        assert "5 trees hasta ahora" in five["causes"][0]
        assert "Es <b>1</b> socio ahora" in one["broadcast_segment"][0]


@pytest.mark.parametrize("locale", locales())
def test_every_code_is_shown_in_groups_of_four(locale: str):
    showing = set()
    for name, texts in rendered(locale, 2).items():
        for text in texts:
            assert MEMBER_CODE not in text, name
            assert MEMBER_CODE.upper() not in text, name
            assert VOUCHER_CODE not in text, name
            if SHOWN_MEMBER_CODE in text or SHOWN_VOUCHER_CODE in text:
                showing.add(name)
    assert showing == {
        "adjusted",
        "card",
        "gift_received",
        "member_summary",
        "sale_ask_amount",
        "sale_confirm",
        "sale_done",
        "survey_feedback",
        "voucher_check",
        "voucher_issued",
        "vouchers",
        "birthday_bonus",
        "claim_decided",
        "claim_notice",
        "challenge_completed",
        "points_earned",  # a stamp card filled: its voucher
        "milestone_reached",  # a milestone's reward voucher
    }


def test_dates_read_in_one_format_on_the_members_clock():
    en, es = rendered("en", 2), rendered("es", 2)
    assert "Jan 2, 2027 · Purchase" in en["history"][0]  # not 1/3/27, nor the UTC day
    assert "\n2 ene 2027 · " in es["history"][0]
    assert "before Jan 2, 2027" in en["voucher_issued"][0]
    utc = render("voucher_issued", "en", **samples(2)["voucher_issued"][0])
    assert "before Jan 3, 2027" in utc
    assert "Jan 2, 2027 · K7M2-Q9XR · satisfaction" in en["survey_feedback"][0]
    assert "\n2 ene 2027 · K7M2-Q9XR · satisfacción" in es["survey_feedback"][0]


def test_segments_show_only_the_conditions_set():
    for locale in locales():
        for text in rendered(locale, 2)["broadcast_segment"]:
            first = text.splitlines()[0]
            assert "  " not in first, first
            assert ": ·" not in first, first
            assert not first.endswith("·"), first
    language_only = rendered("en", 2)["broadcast_confirm"][1]
    assert "Send it to <b>2</b> members (language es)?" in language_only


def test_receipt_ids_made_up_in_chat_are_not_shown_to_the_customer():
    sample = samples(3)["points_earned"][0]
    for locale in locales():
        assert "R-1001" in render("points_earned", locale, **sample)
        made_up = render("points_earned", locale, **{**sample, "receipt_id": "chat-0a1b2c3d4e"})
        assert "chat-" not in made_up
        assert made_up.startswith(("🧾 Purchase: <b>+3</b> points", "🧾 Compra: <b>+3</b> puntos"))


def test_console_output_counts_and_codes_read_right():
    summary = program_summary(PROGRAM, "program.toml")
    assert "(s)" not in summary
    assert "1 point per USD spent" in summary
    assert "100 points = 1 tree, 2 trees" in summary
    due = Obj(
        member_id=4,
        code=MEMBER_CODE,
        kind="points_expiring",
        cause_key="k",
        context={"points": 1, "date": "2026-03-09"},
    )
    assert (
        f"member 4 ({SHOWN_MEMBER_CODE}): points_expiring, because 1 point expires on Mar 9, 2026"
    ) in render_text("nudges_due", nudges=[due])
    entry = Obj(
        at=MOMENT,
        actor="telegram:1",
        action="voucher_used",
        details={"voucher": VOUCHER_CODE, "member_id": 4},
    )
    assert f"voucher={SHOWN_VOUCHER_CODE} member_id=4" in render_text("audit", entries=[entry])
    maintenance = render_text(
        "maintenance", now=MOMENT, downgraded=1, expired=Obj(points=1, lots=1, members=1)
    )
    assert "expired 1 point in 1 lot of 1 member\n  1 member moved down" in maintenance
