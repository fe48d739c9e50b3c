"""Staff end to end on both frameworks: an admin invites a cashier, who records a sale."""

from __future__ import annotations

import re

from bot.emulator import Emulator
from bot.qr import qr_png
from tests.e2e.conftest import ADMIN_ID


def menu_of(emulator: Emulator, chat_id: int) -> list[str]:
    """The commands in the `/` menu Telegram shows in this one chat."""
    return [c["command"] for c in emulator.commands({"type": "chat", "chat_id": chat_id})]


async def test_invited_cashier_records_a_sale_and_the_customer_is_told(shop: Emulator):
    admin = shop.user(ADMIN_ID, "Alma", language_code="en")
    cashier = shop.user(7002, "Carl", language_code="en")
    ann = shop.user(1001, "Ann", language_code="en")
    await ann.send("/start")
    await ann.wait_for_message()
    await ann.send("/card")
    card = await ann.wait_for_message()
    code = re.search(r"([A-Z0-9]{4})-([A-Z0-9]{4})", card.caption)
    await cashier.send("/sale")
    assert "Send /start to join" in (await cashier.wait_for_message()).text  # not staff yet
    await admin.send("/staff add")
    link = (await admin.wait_for_message()).text
    payload = re.search(r"\?start=(\S+)", link)[1]
    assert menu_of(shop, cashier.id) == []  # customers see only the default menu
    assert {"broadcast", "staff", "sale"} <= set(menu_of(shop, ADMIN_ID))  # set at start-up
    await cashier.send(f"/start {payload}")
    assert "/sale" in (await cashier.wait_for_message()).text
    await shop.wait_until(lambda: "sale" in menu_of(shop, cashier.id))
    assert "broadcast" not in menu_of(shop, cashier.id)
    await cashier.send(f"/sale {code[1]}{code[2]}")
    assert "How much" in (await cashier.wait_for_message()).text
    await cashier.send("20")
    await cashier.wait_for_message()
    await cashier.press("Shoes")
    await shop.wait_until(lambda: "Please confirm" in cashier.messages[-1].text)
    await cashier.press("✅ Record sale")
    await shop.wait_until(lambda: "Sale recorded" in cashier.messages[-1].text)
    told = await ann.wait_for_message(timeout=10)
    assert "+45" in told.text  # 20 x 2 for shoes, plus 5 for the visit


async def test_broadcast_with_a_gift_reaches_members_and_its_status_updates(shop: Emulator):
    admin = shop.user(ADMIN_ID, "Alma", language_code="en")
    members = [shop.user(1001 + i, f"M{i}", language_code="en") for i in range(2)]
    for member in members:
        await member.send("/start")
        await member.wait_for_message()
    await admin.send("/broadcast")
    await admin.wait_for_message()
    await admin.send("Weekend treat")
    await admin.wait_for_message()
    await admin.send("Claim 50 points | 50")
    segment = await admin.wait_for_message()
    assert "That is 2 members now" in segment.text
    await admin.press("👁 Preview")
    await shop.wait_until(lambda: "Send it to" in (admin.messages[-1].text or ""))
    assert admin.messages[-2].text == "Weekend treat"
    await admin.press("📣 Send now")
    for member in members:
        treat = await member.wait_for_message(timeout=10)
        assert treat.text == "Weekend treat"
    await shop.wait_until(lambda: "Sent 2 / 2" in (admin.messages[-1].text or ""), timeout=15)
    await members[0].press("Claim 50 points")
    gift = await members[0].wait_for_message()
    assert "+50" in gift.text
    answer = await members[0].press("Claim 50 points")
    assert "Already done" in (await answer.answered()).text


async def test_a_photo_broadcast_reaches_members_as_the_same_photo(shop: Emulator):
    admin = shop.user(ADMIN_ID, "Alma", language_code="en")
    member = shop.user(1001, "Mia", language_code="en")
    await member.send("/start")
    await member.wait_for_message()
    poster = qr_png("NEW-COLLECTION")  # any PNG stands for the merchant's picture
    await admin.send("/broadcast")
    await admin.wait_for_message()
    await admin.send_photo(
        poster,
        caption="New collection, in store now",
        caption_entities=[{"type": "bold", "offset": 0, "length": 14}],
    )
    await admin.wait_for_message()
    await admin.press("No button")
    await admin.wait_for_message()
    await admin.press("👁 Preview")
    await shop.wait_until(lambda: "Send it to" in (admin.messages[-1].text or ""))
    preview = admin.messages[-2]
    assert (preview.photo, preview.caption_html) == (poster, "<b>New collection</b>, in store now")
    await admin.press("📣 Send now")
    sent = await member.wait_for_message(timeout=10)
    assert sent.photo == poster  # sent by file_id: the picture the admin sent, not re-uploaded
    assert sent.caption_html == "<b>New collection</b>, in store now"
    uploads = [c for c in shop.calls_to("sendPhoto") if c.ok and "upload" in str(c.params)]
    assert uploads == []
