"""The merchant API: routes over the domain services, tokens with scopes, one error shape.

Every error answers `{"error": code, "detail": sentence}`:

| status | error                 | when                                                      |
|--------|-----------------------|-----------------------------------------------------------|
| 400    | invalid_json          | the body is not JSON (or nested or numbered past parsing) |
| 401    | unauthorized          | no valid Bearer token (the body is not read)              |
| 403    | forbidden             | the token lacks the route's scope (the body is not read)  |
| 404    | not_found             | no such path, member, voucher, receipt or broadcast       |
| 405    | method_not_allowed    | the path exists, not with this method (see `Allow`)       |
| 409    | conflict, used, ...   | contradicts what is recorded (the domain's reason)        |
| 413    | payload_too_large     | a body over MAX_BODY_BYTES (1 MiB)                        |
| 422    | invalid               | a field is wrong; `detail` starts with its name, and a    |
|        |                       | schema check lists every wrong field in `fields`          |
| 500    | internal_error        | a bug (the server logs its traceback)                     |
| 503    | database_unavailable  | the database cannot be reached (`Retry-After` seconds)    |

The token and the body limit are checked by `Guard` before any body is read. Member and
voucher codes are answered in groups of four ('K7M2-Q9XR') and accepted in any case, with
or without the dash. `GET /healthz` needs no token. No `from __future__ import
annotations` here: FastAPI must evaluate the route annotations.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AfterValidator
from starlette.exceptions import HTTPException

from bot.api.batching import PurchaseBatcher, UowFactory
from bot.api.docs import add_docs
from bot.api.errors import (
    RETRY_AFTER_SECONDS,
    ApiError,
    error_response,
)
from bot.api.guard import Guard, checked_token, requires
from bot.api.metrics_schemas import MetricsOut
from bot.api.schemas import (
    MAX_CODE,
    AdjustmentIn,
    AdjustmentOut,
    BotHealthOut,
    BroadcastIn,
    BroadcastOut,
    ErrorOut,
    HealthOut,
    HeldOut,
    MemberIn,
    MemberOut,
    PurchaseIn,
    PurchaseOut,
    RefundIn,
    RefundOut,
    VoucherOut,
    storable,
)
from bot.api.tokens import TokenCache
from bot.broadcast_content import check_content, check_segment
from bot.health import Health
from bot.web.dashboard import dashboard_pages
from bot.web.member import member_app
from bot.web.scanner import scanner_pages
from bot.web.site import Site, WebSettings, mount_static
from domain.broadcasts import Broadcast, BroadcastContent, BroadcastProgress
from domain.card_codes import is_card_code, read_card_code
from domain.codes import format_code
from domain.earning import PurchaseLine
from domain.errors import (
    Conflict,
    InsufficientPoints,
    InvalidRequest,
    LoyaltyError,
    NotFound,
    VoucherUnusable,
)
from domain.metrics import as_json
from domain.models import ApiToken, Voucher
from domain.periods import BadPeriod, local_today, named_period
from domain.program import Program
from domain.segments import Segment
from domain.services.broadcasts import broadcast_progress, get_broadcast, queue_broadcast
from domain.services.members import member_by_code
from domain.services.metrics import program_metrics
from domain.services.notifications import outbox_backlog
from domain.services.points import account_summary, adjust_points
from domain.services.purchases import MERCHANT, MemberRef, ReceiptIn, refund_purchase
from domain.services.rewards import check_voucher, use_voucher
from domain.validation import MAX_BIGINT
from storage.errors import is_unavailable

OPENAPI_URL = "/api/v1/openapi.json"
HEALTH_TIMEOUT_S = 5.0  # a database slower than this to count the outbox is reported down
STATUS = {
    NotFound: 404,
    Conflict: 409,
    InsufficientPoints: 409,
    VoucherUnusable: 409,
    InvalidRequest: 422,
}
HTTP_CODES = {
    400: "invalid_json",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}  # FastAPI's 400: a body nested or numbered past parsing
RETRY_AFTER = {
    "Retry-After": {
        "description": "seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}
ERRORS: dict[int | str, dict[str, Any]] = {
    **{status: {"model": ErrorOut} for status in (400, 401, 403, 404, 409, 413, 422, 500)},
    503: {
        "model": ErrorOut,
        "description": "The database cannot be reached",
        "headers": RETRY_AFTER,
    },
}

BEARER = HTTPBearer(auto_error=False)
# A date of a report period in the query, as typed: read by `query_day`.
Day = Annotated[
    str | None, Query(max_length=32, description="YYYY-MM-DD in the program's time zone")
]
# A member or voucher code in a path, as typed: checked like every text of a body.
Code = Annotated[str, Path(min_length=1, max_length=MAX_CODE), AfterValidator(storable)]


async def current_token(
    request: Request, _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
) -> ApiToken:
    """The token `Guard` accepted (`_scheme` puts the Bearer scheme in the OpenAPI document)."""
    token = checked_token(request.scope)
    if token is None:
        raise ApiError(401, "unauthorized", "a valid Bearer token is required")
    return token


Token = Annotated[ApiToken, Depends(current_token)]


def create_api(
    writer: UowFactory,
    reader: UowFactory,
    program: Program,
    clock: Callable[[], datetime],
    *,
    health: Health | None = None,
    web: WebSettings | None = None,
) -> FastAPI:
    """The API app over one database and program; `health` is the running bot's, if any;
    with `web`, the web pages too (bot.web), on the same app and port."""
    api = FastAPI(
        title="Loyalty merchant API",
        version="1",
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
    )
    tokens = TokenCache(reader, clock)
    purchases = PurchaseBatcher(writer, program, MERCHANT, clock)
    api.add_middleware(Guard, tokens=tokens, router=api.router, public=frozenset({OPENAPI_URL}))
    _handle_errors(api)

    def plain_code(code: str) -> str:
        """A member code as given, or the plain code of the Mini App's signed card code (a
        till that scans the card's QR); CardCodeRefused (422) when forged or expired."""
        if web is not None and is_card_code(code):
            return read_card_code(code, web.card_key, clock(), web.card_qr_seconds)
        return code

    if web is not None:
        site = Site(writer, reader, program, clock, web)
        mount_static(api)
        api.include_router(member_app(site))
        api.include_router(dashboard_pages(site))
        api.include_router(scanner_pages(site))
    add_docs(api, OPENAPI_URL)

    @api.get(
        "/healthz",
        response_model=HealthOut,
        responses={503: {"model": HealthOut, "headers": RETRY_AFTER}},
    )
    async def healthz() -> JSONResponse:
        """Up, the database answering, the bot's last update, the outbox backlog (no token)."""
        now = clock()
        bot = (
            None
            if health is None
            else BotHealthOut(
                last_update_at=health.last_update_at,
                seconds_since_last_update=health.seconds_since_update(now),
            )
        )
        try:
            backlog = await asyncio.wait_for(outbox_backlog(reader()), HEALTH_TIMEOUT_S)
        except Exception as error:
            if not is_unavailable(error):
                raise
            down = HealthOut(
                status="unavailable",
                database="unreachable",
                outbox_backlog=None,
                bot=bot,
                error="database_unavailable",
                detail="the database cannot be reached",
            )
            return JSONResponse(
                down.model_dump(mode="json", exclude_unset=True),
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        up = HealthOut(status="ok", database="ok", outbox_backlog=backlog, bot=bot)
        return JSONResponse(up.model_dump(mode="json", exclude_unset=True))

    @api.post(
        "/api/v1/purchases",
        response_model=PurchaseOut,
        status_code=201,
        responses={200: {"model": PurchaseOut}, 202: {"model": HeldOut}, **ERRORS},
        openapi_extra=requires("purchases"),
    )
    async def purchase(body: PurchaseIn, token: Token) -> JSONResponse:
        """Record a receipt; the same receipt again answers 200 with the first answer."""
        outcome = await purchases.record(
            ReceiptIn(
                body.receipt_id,
                member_ref(body.member, plain_code),
                [PurchaseLine(i.sku, i.category, i.quantity, i.unit_price) for i in body.items],
                body.occurred_at,
                body.store,
            )
        )
        if outcome.held:  # no member has this phone yet: credited when someone shares it
            return JSONResponse(outcome.answer, status_code=202)
        answer = {**outcome.answer, "member_code": format_code(str(outcome.answer["member_code"]))}
        return JSONResponse(answer, status_code=200 if outcome.replayed else 201)

    @api.post(
        "/api/v1/refunds",
        response_model=RefundOut,
        responses=ERRORS,
        openapi_extra=requires("purchases"),
    )
    async def refund(body: RefundIn, token: Token) -> RefundOut:
        """Take back points in proportion to the refunded amount."""
        done = await refund_purchase(
            writer(),
            program,
            merchant=MERCHANT,
            receipt_id=body.receipt_id,
            amount=body.amount,
            now=clock(),
            refund_id=body.refund_id,
            actor=f"api:{token.name}",
        )
        return RefundOut(
            receipt_id=body.receipt_id,
            amount=done.refund.amount,
            points_clawed=done.refund.points_clawed,
            points_shortfall=done.refund.points_shortfall,
            tier_credits_clawed=done.refund.credits_clawed,
            refunded_total=done.refunded_total,
            receipt_total=done.receipt_total,
            balance=done.balance,
            tier=done.tier,
        )

    @api.get(
        "/api/v1/members/{member_code}",
        response_model=MemberOut,
        responses=ERRORS,
        openapi_extra=requires("members"),
    )
    async def member(member_code: Code, token: Token) -> MemberOut:
        """A member's balance, tier, tier credits and points expiring soon."""
        found = await member_by_code(reader(), plain_code(member_code))
        summary = await account_summary(
            reader(), program, found.id, clock(), expiring_within=timedelta(days=30)
        )
        progress = summary.progress
        return MemberOut(
            member_code=format_code(found.code or ""),
            tier=found.tier,
            balance=summary.balance,
            tier_credits=progress.credits,
            next_tier=progress.next_tier,
            credits_to_next_tier=progress.credits_needed,
            points_expiring_within_30_days=summary.expiring_points,
            first_expiry=summary.expiring_first,
        )

    @api.post(
        "/api/v1/members/{member_code}/adjustments",
        response_model=AdjustmentOut,
        responses=ERRORS,
        openapi_extra=requires("admin"),
    )
    async def adjust(member_code: Code, body: AdjustmentIn, token: Token) -> AdjustmentOut:
        """Add or remove points by hand, with the reason (admin scope)."""
        found = await member_by_code(reader(), plain_code(member_code))
        balance = await adjust_points(
            writer(),
            program,
            member_id=found.id,
            points=body.points,
            reason=body.reason,
            actor=f"api:{token.name}",
            now=clock(),
        )
        return AdjustmentOut(member_code=format_code(found.code or ""), balance=balance)

    @api.get(
        "/api/v1/vouchers/{code}",
        response_model=VoucherOut,
        responses=ERRORS,
        openapi_extra=requires("vouchers"),
    )
    async def voucher(code: Code, token: Token) -> VoucherOut:
        """A voucher and whether it can be used now."""
        return voucher_out(await check_voucher(reader(), code), clock())

    @api.post(
        "/api/v1/vouchers/{code}/use",
        response_model=VoucherOut,
        responses=ERRORS,
        openapi_extra=requires("vouchers"),
    )
    async def use(code: Code, token: Token) -> VoucherOut:
        """Mark a voucher used at the till; used, expired or unknown ones are refused."""
        return voucher_out(
            await use_voucher(writer(), code=code, actor=f"api:{token.name}", now=clock()), clock()
        )

    @api.post(
        "/api/v1/broadcasts",
        response_model=BroadcastOut,
        status_code=201,
        responses=ERRORS,
        openapi_extra=requires("admin"),
    )
    async def broadcast(body: BroadcastIn, token: Token) -> BroadcastOut:
        """Queue a message to a segment; members who turned offers off are left out."""
        button = body.button
        content = BroadcastContent(
            text=body.text,
            photo=body.photo,
            button_text=button.text if button else None,
            button_url=button.url if button else None,
            bonus_points=button.bonus_points if button else None,
            reward_id=button.reward_id if button else None,
        )
        check_content(content, program)
        segment = Segment(**body.segment.model_dump())
        check_segment(segment, program)
        broadcast_id = await queue_broadcast(
            writer(), content, segment, f"api:{token.name}", clock()
        )
        return await broadcast_out(broadcast_id)

    @api.get(
        "/api/v1/broadcasts/{broadcast_id}",
        response_model=BroadcastOut,
        responses=ERRORS,
        openapi_extra=requires("admin"),
    )
    async def broadcast_status(
        broadcast_id: Annotated[int, Path(ge=1, le=MAX_BIGINT)], token: Token
    ) -> BroadcastOut:
        """A broadcast's state and counts: sent, blocked, failed, pending, cancelled."""
        return await broadcast_out(broadcast_id)

    @api.get(
        "/api/v1/metrics",
        response_model=MetricsOut,
        responses=ERRORS,
        openapi_extra=requires("reports"),
    )
    async def metrics(token: Token, since: Day = None, until: Day = None) -> JSONResponse:
        """The program's figures for [since, until) (default: the 30 days before today), the
        same JSON as `loyalty-bot report --format json` (reports scope)."""
        try:
            start, end = named_period(since, until, local_today(clock(), program.info.timezone))
        except BadPeriod as bad:
            raise InvalidRequest(str(bad)) from None
        return JSONResponse(as_json(await program_metrics(reader(), program, start, end)))

    async def broadcast_out(broadcast_id: int) -> BroadcastOut:
        found = await get_broadcast(reader(), broadcast_id)
        progress = await broadcast_progress(reader(), broadcast_id)
        if found is None or progress is None:
            raise NotFound("broadcast", broadcast_id)
        return broadcast_view(found, progress)

    return api


def _handle_errors(api: FastAPI) -> None:
    """Every refusal and failure in the one error body."""

    @api.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.detail)

    @api.exception_handler(LoyaltyError)
    async def _refused(request: Request, exc: LoyaltyError) -> JSONResponse:
        status = next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 409)
        return error_response(status, getattr(exc, "reason", None) or exc.code, str(exc))

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        unparsed = next((e for e in errors if e["type"] == "json_invalid"), None)
        if unparsed is not None:
            reason = unparsed.get("ctx", {}).get("error", "")
            return error_response(
                400,
                "invalid_json",
                f"the body is not JSON: {reason} (at character {unparsed['loc'][-1]})",
            )
        problems = [
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in errors
        ]
        return error_response(422, "invalid", "; ".join(problems), fields=problems)

    @api.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)

    @api.exception_handler(Exception)
    async def _failed(request: Request, exc: Exception) -> JSONResponse:
        # Starlette sends this, then raises the error again for the server to log.
        return error_response(500, "internal_error", "the server failed; the error is logged")


def broadcast_view(broadcast: Broadcast, progress: BroadcastProgress) -> BroadcastOut:
    """A broadcast as the API shows it."""
    return BroadcastOut(
        id=broadcast.id,
        state=broadcast.state,
        created_at=broadcast.created_at,
        created_by=broadcast.created_by,
        segment=broadcast.segment.as_dict(),
        total=progress.total,
        sent=progress.sent,
        blocked=progress.blocked,
        failed=progress.failed,
        pending=progress.pending,
        cancelled=progress.cancelled,
        stop_reason=broadcast.stop_reason,
    )


def member_ref(member: MemberIn, plain_code: Callable[[str], str]) -> MemberRef:
    """The one way the body names the customer (`plain_code` reads a card code)."""
    if member.telegram_id is not None:
        return MemberRef("telegram_id", str(member.telegram_id))
    if member.member_code is not None:
        return MemberRef("member_code", plain_code(member.member_code))
    return MemberRef("phone", member.phone or "")


def voucher_out(voucher: Voucher, now: datetime) -> VoucherOut:
    """A voucher as the API shows it."""
    return VoucherOut(
        code=format_code(voucher.code),
        reward_id=voucher.reward_id,
        state=voucher.state(now),
        issued_at=voucher.issued_at,
        expires_at=voucher.expires_at,
        used_at=voucher.used_at,
    )
