"""The merchant API: routes over the domain services, tokens with scopes, one error shape.

Every error answers `{"error": code, "detail": sentence}` with its HTTP status: 401 without
a valid token, 403 for a token without the scope, 404 unknown, 409 conflict, 422 invalid.
No `from __future__ import annotations` here: FastAPI must evaluate the route annotations,
and `Depends(scope(...))` refers to a function local to `create_api`.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.api.batching import PurchaseBatcher, UowFactory
from bot.api.schemas import (
    AdjustmentIn,
    AdjustmentOut,
    BroadcastIn,
    BroadcastOut,
    ErrorOut,
    HeldOut,
    MemberIn,
    MemberOut,
    PurchaseIn,
    PurchaseOut,
    RefundIn,
    RefundOut,
    VoucherOut,
)
from bot.api.tokens import TokenCache
from bot.broadcast_content import check_content, check_segment
from domain.broadcasts import Broadcast, BroadcastContent, BroadcastProgress
from domain.earning import PurchaseLine
from domain.errors import (
    Conflict,
    InsufficientPoints,
    InvalidRequest,
    LoyaltyError,
    NotFound,
    VoucherUnusable,
)
from domain.models import ApiToken, Voucher
from domain.program import Program
from domain.segments import Segment
from domain.services.broadcasts import broadcast_progress, get_broadcast, queue_broadcast
from domain.services.members import member_by_code
from domain.services.points import account_summary, adjust_points
from domain.services.purchases import MERCHANT, MemberRef, ReceiptIn, refund_purchase
from domain.services.rewards import check_voucher, use_voucher

MAX_ID = 2**63 - 1  # the largest database id: a bigger one is a 422, not an overflow
STATUS = {NotFound: 404, Conflict: 409, InsufficientPoints: 409, VoucherUnusable: 409,
          InvalidRequest: 422}
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut} for status in (401, 403, 404, 409, 422)}


class ApiError(Exception):
    """An HTTP error with the API's body."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def error(status: int, code: str, detail: str) -> JSONResponse:
    """The one error body."""
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


def create_api(writer: UowFactory, reader: UowFactory, program: Program,
               clock: Callable[[], datetime]) -> FastAPI:
    """The API app over one database and program."""
    api = FastAPI(title="Loyalty merchant API", version="1",
                  openapi_url="/api/v1/openapi.json", docs_url="/api/docs", redoc_url=None)
    bearer = HTTPBearer(auto_error=False)
    tokens = TokenCache(reader, clock)
    purchases = PurchaseBatcher(writer, program, MERCHANT, clock)

    def scope(needed: str) -> Callable[..., Awaitable[ApiToken]]:
        async def check(credentials: Annotated[HTTPAuthorizationCredentials | None,
                                               Depends(bearer)]) -> ApiToken:
            token = await tokens.authenticate(credentials.credentials) if credentials else None
            if token is None:
                raise ApiError(401, "unauthorized", "a valid Bearer token is required")
            if needed not in token.scopes and "admin" not in token.scopes:
                raise ApiError(403, "forbidden", f"this token lacks the {needed!r} scope")
            return token
        return check

    @api.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error(exc.status, exc.code, exc.detail)

    @api.exception_handler(LoyaltyError)
    async def _refused(request: Request, exc: LoyaltyError) -> JSONResponse:
        status = next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 409)
        return error(status, getattr(exc, "reason", None) or exc.code, str(exc))

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}"
                    for e in exc.errors()]
        return JSONResponse({"error": "invalid", "detail": "; ".join(problems),
                             "fields": problems}, status_code=422)

    @api.post("/api/v1/purchases", response_model=PurchaseOut, status_code=201,
              responses={200: {"model": PurchaseOut}, 202: {"model": HeldOut}, **ERRORS})
    async def purchase(body: PurchaseIn,
                       token: Annotated[ApiToken, Depends(scope("purchases"))]) -> JSONResponse:
        """Record a receipt; the same receipt again answers 200 with the first answer."""
        outcome = await purchases.record(ReceiptIn(
            body.receipt_id, member_ref(body.member),
            [PurchaseLine(i.sku, i.category, i.quantity, i.unit_price) for i in body.items],
            body.occurred_at, body.store))
        if outcome.held:  # no member has this phone yet: credited when someone shares it
            return JSONResponse(outcome.answer, status_code=202)
        return JSONResponse(outcome.answer, status_code=200 if outcome.replayed else 201)

    @api.post("/api/v1/refunds", response_model=RefundOut, responses=ERRORS)
    async def refund(body: RefundIn,
                     token: Annotated[ApiToken, Depends(scope("purchases"))]) -> RefundOut:
        """Take back points in proportion to the refunded amount."""
        done = await refund_purchase(writer(), program, merchant=MERCHANT,
                                     receipt_id=body.receipt_id, amount=body.amount,
                                     now=clock(), refund_id=body.refund_id,
                                     actor=f"api:{token.name}")
        return RefundOut(receipt_id=body.receipt_id, amount=done.refund.amount,
                         points_clawed=done.refund.points_clawed,
                         points_shortfall=done.refund.points_shortfall,
                         tier_credits_clawed=done.refund.credits_clawed,
                         refunded_total=done.refunded_total, receipt_total=done.receipt_total,
                         balance=done.balance, tier=done.tier)

    @api.get("/api/v1/members/{member_code}", response_model=MemberOut, responses=ERRORS)
    async def member(member_code: str,
                     token: Annotated[ApiToken, Depends(scope("members"))]) -> MemberOut:
        """A member's balance, tier, tier credits and points expiring soon."""
        found = await member_by_code(reader(), member_code)
        summary = await account_summary(reader(), program, found.id, clock(),
                                        expiring_within=timedelta(days=30))
        progress = summary.progress
        return MemberOut(member_code=found.code or "", tier=found.tier, balance=summary.balance,
                         tier_credits=progress.credits, next_tier=progress.next_tier,
                         credits_to_next_tier=progress.credits_needed,
                         points_expiring_within_30_days=summary.expiring_points,
                         first_expiry=summary.expiring_first)

    @api.post("/api/v1/members/{member_code}/adjustments", response_model=AdjustmentOut,
              responses=ERRORS)
    async def adjust(member_code: str, body: AdjustmentIn,
                     token: Annotated[ApiToken, Depends(scope("admin"))]) -> AdjustmentOut:
        """Add or remove points by hand, with the reason (admin scope)."""
        found = await member_by_code(reader(), member_code)
        balance = await adjust_points(writer(), program, member_id=found.id, points=body.points,
                                      reason=body.reason, actor=f"api:{token.name}",
                                      now=clock())
        return AdjustmentOut(member_code=found.code or "", balance=balance)

    @api.get("/api/v1/vouchers/{code}", response_model=VoucherOut, responses=ERRORS)
    async def voucher(code: str,
                      token: Annotated[ApiToken, Depends(scope("vouchers"))]) -> VoucherOut:
        """A voucher and whether it can be used now."""
        return voucher_out(await check_voucher(reader(), code), clock())

    @api.post("/api/v1/vouchers/{code}/use", response_model=VoucherOut, responses=ERRORS)
    async def use(code: str,
                  token: Annotated[ApiToken, Depends(scope("vouchers"))]) -> VoucherOut:
        """Mark a voucher used at the till; used, expired or unknown ones are refused."""
        return voucher_out(await use_voucher(writer(), code=code, actor=f"api:{token.name}",
                                             now=clock()), clock())

    @api.post("/api/v1/broadcasts", response_model=BroadcastOut, status_code=201,
              responses=ERRORS)
    async def broadcast(body: BroadcastIn,
                        token: Annotated[ApiToken, Depends(scope("admin"))]) -> BroadcastOut:
        """Queue a message to a segment; members who turned offers off are left out."""
        button = body.button
        content = BroadcastContent(
            text=body.text, photo=body.photo, button_text=button.text if button else None,
            button_url=button.url if button else None,
            bonus_points=button.bonus_points if button else None,
            reward_id=button.reward_id if button else None)
        check_content(content, program)
        segment = Segment(**body.segment.model_dump())
        check_segment(segment, program)
        broadcast_id = await queue_broadcast(writer(), content, segment, f"api:{token.name}",
                                             clock())
        return await broadcast_out(broadcast_id)

    @api.get("/api/v1/broadcasts/{broadcast_id}", response_model=BroadcastOut,
             responses=ERRORS)
    async def broadcast_status(broadcast_id: Annotated[int, Path(ge=1, le=MAX_ID)],
                               token: Annotated[ApiToken, Depends(scope("admin"))],
                               ) -> BroadcastOut:
        """A broadcast's state and counts: sent, blocked, failed, pending, cancelled."""
        return await broadcast_out(broadcast_id)

    async def broadcast_out(broadcast_id: int) -> BroadcastOut:
        found = await get_broadcast(reader(), broadcast_id)
        progress = await broadcast_progress(reader(), broadcast_id)
        if found is None or progress is None:
            raise NotFound("broadcast", broadcast_id)
        return broadcast_view(found, progress)

    return api


def broadcast_view(broadcast: Broadcast, progress: BroadcastProgress) -> BroadcastOut:
    """A broadcast as the API shows it."""
    return BroadcastOut(id=broadcast.id, state=broadcast.state, created_at=broadcast.created_at,
                        created_by=broadcast.created_by, segment=broadcast.segment.as_dict(),
                        total=progress.total, sent=progress.sent, blocked=progress.blocked,
                        failed=progress.failed, pending=progress.pending,
                        cancelled=progress.cancelled, stop_reason=broadcast.stop_reason)


def member_ref(member: MemberIn) -> MemberRef:
    """The one way the body names the customer."""
    if member.telegram_id is not None:
        return MemberRef("telegram_id", str(member.telegram_id))
    if member.member_code is not None:
        return MemberRef("member_code", member.member_code)
    return MemberRef("phone", member.phone or "")


def voucher_out(voucher: Voucher, now: datetime) -> VoucherOut:
    """A voucher as the API shows it."""
    return VoucherOut(code=voucher.code, reward_id=voucher.reward_id, state=voucher.state(now),
                      issued_at=voucher.issued_at, expires_at=voucher.expires_at,
                      used_at=voucher.used_at)
