"""The cashier's scanner: a Mini App page for staff, opened from their menu button.

The cashier scans a customer's QR with Telegram's `showScanQrPopup` (or types the code):
the Mini App's short-lived signed card code or the plain member code of the chat's /card
both name the member; a voucher's code shows the voucher. A sale takes the amount and a
category, then a confirm screen that carries a receipt id made by the server: confirming
records it through the same `record_purchase` as `/sale`, so a double confirm (or a
replayed request) records the receipt once. A voucher is checked, then used once.

Every request carries Telegram's signed initData, and the person must be an admin or an
active cashier: a customer gets 403. No `from __future__ import annotations`: FastAPI
must evaluate the route annotations.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from bot.conversation.handlers.sale import MAX_AMOUNT, OTHER, sale_categories
from bot.conversation.menus import SCANNER_PATH
from bot.conversation.typed import TypedNumberError, money
from bot.web.site import Site, page_response, render_page
from bot.web.telegram_auth import WebAppUser
from domain.card_codes import CardCodeRefused, is_card_code, read_card_code
from domain.codes import MEMBER_CODE_LENGTH, VOUCHER_CODE_LENGTH, is_code, normalize_code
from domain.earning import PurchaseLine
from domain.errors import Conflict, InvalidRequest, NotFound, VoucherUnusable
from domain.models import Member
from domain.preview import preview_points
from domain.receipts import made_up_receipt_id
from domain.services.members import pick_locale
from domain.services.points import account_summary
from domain.services.purchases import MERCHANT, MemberRef, ReceiptIn, record_purchase
from domain.services.rewards import check_voucher, use_voucher
from domain.services.staff import Role, actor, role_of
from domain.services.till import member_at_till

SCREENS = "/scanner/screen"
RECEIPT_ID = r"^[A-Za-z0-9_-]{4,64}$"


class SaleIn(BaseModel):
    """A confirmed sale: exactly what the confirm screen showed, with its receipt id."""

    member: str = Field(min_length=MEMBER_CODE_LENGTH, max_length=16)
    amount: str = Field(min_length=1, max_length=32)
    category: str = Field(min_length=1, max_length=64)
    receipt: str = Field(pattern=RECEIPT_ID)


class VoucherIn(BaseModel):
    """A voucher to mark used."""

    code: str = Field(min_length=1, max_length=32)


@dataclass(frozen=True)
class Cashier:
    """The person the initData names, in their language; `role` None: not staff."""

    telegram_id: int
    role: Role | None
    locale: str


def scanner_pages(site: Site) -> APIRouter:
    """The scanner's routes over `site`."""
    router = APIRouter(include_in_schema=False)
    program = site.program
    categories = sale_categories(program)

    async def cashier(user: Annotated[WebAppUser, Depends(site.telegram_user)]) -> Cashier:
        role = await role_of(site.reader(), user.id, site.settings.admins)
        async with site.reader() as uow:
            member = await uow.members.by_telegram_id(user.id)
        locale = member.locale if member else pick_locale(program, user.language_code)
        return Cashier(user.id, role, locale)

    Staff = Annotated[Cashier, Depends(cashier)]  # noqa: N806 (a type, for the routes)

    def screen(who: Cashier, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = render_page(
            f"scanner/{template}.html",
            who.locale,
            program=program,
            screens=SCREENS,
            currency=program.info.currency,
            zone=program.info.timezone,
            **context,
        )
        return page_response(html, status=status)

    def refused(who: Cashier, reason: str, status: int = 409) -> HTMLResponse:
        return screen(who, "start", status=status, refusal=reason)

    def forbidden(who: Cashier) -> HTMLResponse:
        """A customer (or anyone not on the staff) learns only that this is for staff."""
        return screen(who, "forbidden", status=403)

    @router.get(SCANNER_PATH)
    async def shell(request: Request) -> HTMLResponse:
        """The page Telegram opens; its script loads the screens for the signed-in staff."""
        spoken = request.headers.get("Accept-Language", "").split(",")[0].split(";")[0]
        locale = pick_locale(program, spoken.strip() or None)
        html = render_page("scanner/app.html", locale, program=program, start=f"{SCREENS}/start")
        return page_response(html)

    @router.get(f"{SCREENS}/start")
    async def start(who: Staff) -> HTMLResponse:
        """Scan a card or a voucher, or type its code."""
        if who.role is None:
            return forbidden(who)
        return screen(who, "start", refusal=None)

    @router.get(f"{SCREENS}/code")
    async def code(who: Staff, text: Annotated[str, Query(max_length=128)] = "") -> HTMLResponse:
        """What a scanned or typed code names: a member (the sale form) or a voucher."""
        if who.role is None:
            return forbidden(who)
        typed = text.strip()
        if is_card_code(typed):
            try:
                plain = read_card_code(
                    typed, site.settings.card_key, site.clock(), site.settings.card_qr_seconds
                )
            except CardCodeRefused as refusal:
                return refused(who, f"card_{refusal.reason}", status=422)
            return await member_screen(who, plain)
        plain = normalize_code(typed)
        if is_code(plain, MEMBER_CODE_LENGTH):
            return await member_screen(who, plain)
        if is_code(plain, VOUCHER_CODE_LENGTH):
            return await voucher_screen(who, plain)
        return refused(who, "unreadable", status=422)

    async def member_screen(who: Cashier, plain: str) -> HTMLResponse:
        member = await member_at_till(site.reader(), MemberRef("member_code", plain))
        if member is None:
            return refused(who, "member_not_found", status=404)
        return await sale_form(who, member)

    async def sale_form(
        who: Cashier, member: Member, refusal: Any = None, status: int = 200
    ) -> HTMLResponse:
        summary = await account_summary(site.reader(), program, member.id, site.clock())
        return screen(
            who,
            "member",
            status=status,
            member=member,
            balance=summary.balance,
            categories=categories,
            other=OTHER,
            refusal=refusal,
        )

    @router.get(f"{SCREENS}/sale")
    async def confirm_sale(
        who: Staff,
        member: Annotated[str, Query(max_length=16)] = "",
        amount: Annotated[str, Query(max_length=32)] = "",
        category: Annotated[str, Query(max_length=64)] = "",
    ) -> HTMLResponse:
        """Exactly what will be recorded, with the points it earns and a new receipt id."""
        if who.role is None:
            return forbidden(who)
        found = await member_at_till(
            site.reader(), MemberRef("member_code", normalize_code(member))
        )
        if found is None:
            return refused(who, "member_not_found", status=404)
        try:
            typed = money(amount, currency=program.info.currency, maximum=MAX_AMOUNT)
        except TypedNumberError as refusal:
            return await sale_form(who, found, refusal, status=422)
        if category not in categories:
            return refused(who, "gone", status=422)
        return screen(
            who,
            "sale_confirm",
            member=found,
            amount=typed,
            category=category,
            other=OTHER,
            points=preview_points(program, found, category, typed),
            receipt=made_up_receipt_id(),
        )

    @router.post("/scanner/sale")
    async def record(who: Staff, body: SaleIn) -> HTMLResponse:
        """Record the sale once per receipt id, as /sale does; a repeat shows the same."""
        if who.role is None:
            return forbidden(who)
        try:
            amount = money(body.amount, currency=program.info.currency, maximum=MAX_AMOUNT)
        except TypedNumberError:
            return refused(who, "gone", status=422)
        if body.category not in categories:
            return refused(who, "gone", status=422)
        try:
            outcome = await record_purchase(
                site.writer(),
                program,
                ReceiptIn(
                    body.receipt,
                    MemberRef("member_code", normalize_code(body.member)),
                    [PurchaseLine("sale", body.category, 1, amount)],
                    store=f"telegram:{who.telegram_id}",
                ),
                now=site.clock(),
                merchant=MERCHANT,
            )
        except NotFound:
            return refused(who, "member_not_found", status=404)
        except (Conflict, InvalidRequest):
            return refused(who, "conflict", status=409)
        return screen(
            who,
            "sale_done",
            answer=outcome.answer,
            replayed=outcome.replayed,
            amount=amount,
        )

    async def voucher_screen(who: Cashier, plain: str, status: int = 200) -> HTMLResponse:
        try:
            voucher = await check_voucher(site.reader(), plain)
        except (NotFound, InvalidRequest):
            return refused(who, "voucher_not_found", status=404)
        return screen(
            who, "voucher", status=status, voucher=voucher, state=voucher.state(site.clock())
        )

    @router.post("/scanner/voucher")
    async def use(who: Staff, body: VoucherIn) -> HTMLResponse:
        """Mark the voucher used; a used or expired one (a second tap too) is refused."""
        if who.role is None:
            return forbidden(who)
        try:
            voucher = await use_voucher(
                site.writer(), code=body.code, actor=actor(who.telegram_id), now=site.clock()
            )
        except (NotFound, InvalidRequest):
            return refused(who, "voucher_not_found", status=404)
        except VoucherUnusable as unusable:
            return refused(who, f"voucher_{unusable.reason}", status=409)
        return screen(who, "voucher", voucher=voucher, state="just_used")

    return router
