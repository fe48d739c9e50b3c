"""Every method over raw HTTP, with Telegram's answers and errors."""

from __future__ import annotations

import json

import aiohttp
import pytest

from bot.emulator import Emulator
from tests.emulator.conftest import TOKEN, Api, png

BUTTON = {"inline_keyboard": [[{"text": "Redeem", "callback_data": "redeem:1"}]]}


@pytest.fixture
async def ann(emu: Emulator) -> int:
    """A user who has started the bot."""
    user = emu.user(1001, "Ann", username="ann", language_code="es")
    await user.start()
    return user.id


# -- routing and encodings ------------------------------------------------------------------


async def test_unknown_token_is_unauthorized(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.post(f"{emu.base_url}/bot999:WRONG/getMe") as response:
        assert response.status == 401
        assert await response.json() == {
            "ok": False,
            "error_code": 401,
            "description": "Unauthorized",
        }


async def test_malformed_token_and_unknown_method_are_not_found(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.post(f"{emu.base_url}/botnonsense/getMe") as response:
        assert response.status == 404
    async with http.post(f"{emu.api_url}/sendTelepathy") as response:
        assert response.status == 404
        assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


async def test_get_me_by_get_and_case_insensitive_name(
    emu: Emulator, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"{emu.api_url}/getme") as response:
        body = await response.json()
    assert response.status == 200
    assert body["ok"] is True
    me = body["result"]
    assert me["id"] == 123456
    assert me["is_bot"] is True
    assert me["username"] == "northwind_loyalty_bot"
    assert me["first_name"] == "Northwind Loyalty"
    assert me["can_join_groups"] is True
    assert me["can_read_all_group_messages"] is False
    assert me["supports_inline_queries"] is False


async def test_query_string_parameters(
    emu: Emulator, http: aiohttp.ClientSession, ann: int
) -> None:
    async with http.get(f"{emu.api_url}/getChat", params={"chat_id": str(ann)}) as response:
        body = await response.json()
    assert body["result"]["type"] == "private"
    assert body["result"]["username"] == "ann"


async def test_form_body_with_json_encoded_fields(form_api: Api, emu: Emulator, ann: int) -> None:
    status, body = await form_api(
        "sendMessage",
        chat_id=str(ann),
        text="<b>Hi</b>",
        parse_mode="HTML",
        reply_markup=json.dumps(BUTTON),
        disable_notification="true",
    )
    assert status == 200
    assert body["result"]["reply_markup"] == BUTTON
    assert emu.calls[-1].params["chat_id"] == ann
    assert emu.calls[-1].params["disable_notification"] is True


async def test_bad_json_body(emu: Emulator, http: aiohttp.ClientSession) -> None:
    async with http.post(
        f"{emu.api_url}/getMe", data=b"{nope", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400


# -- sendMessage ----------------------------------------------------------------------------


async def test_send_message_builds_the_message(api: Api, emu: Emulator, ann: int) -> None:
    status, body = await api(
        "sendMessage",
        chat_id=ann,
        text="👍 <b>Welcome</b>, <i>Ann</i> &amp; co",
        parse_mode="HTML",
        reply_markup=BUTTON,
    )
    assert status == 200
    message = body["result"]
    assert message["message_id"] == 2  # the user's /start was 1
    assert isinstance(message["date"], int)
    assert message["chat"] == {"id": ann, "type": "private", "first_name": "Ann", "username": "ann"}
    assert message["from"]["username"] == "northwind_loyalty_bot"
    assert message["text"] == "👍 Welcome, Ann & co"
    assert message["entities"] == [
        {"type": "bold", "offset": 3, "length": 7},
        {"type": "italic", "offset": 12, "length": 3},
    ]
    assert message["reply_markup"] == BUTTON
    _, second = await api("sendMessage", chat_id=ann, text="again")
    assert second["result"]["message_id"] == 3
    assert "entities" not in second["result"]
    sent = emu.user(ann).messages[0]
    assert sent.html == "👍 <b>Welcome</b>, <i>Ann</i> &amp; co"
    assert sent.text == "👍 Welcome, Ann & co"


@pytest.mark.parametrize(
    ("text", "parse_mode", "description"),
    [
        ("", None, "Bad Request: message text is empty"),
        (" \n ", None, "Bad Request: message text is empty"),
        ("<b></b>", "HTML", "Bad Request: message text is empty"),
        ("x" * 4097, None, "Bad Request: message is too long"),
        ("<b>" + "x" * 4097 + "</b>", "HTML", "Bad Request: message is too long"),
        (
            "<p>x</p>",
            "HTML",
            'Bad Request: can\'t parse entities: Unsupported start tag "p" at byte offset 0',
        ),
        ("Tom & Jerry", "HTML", 'Bad Request: can\'t parse entities: Character "&"'),
        (
            "<b>x",
            "HTML",
            "Bad Request: can't parse entities: Can't find end tag corresponding "
            'to start tag "b"',
        ),
        ("x", "Klingon", "Bad Request: unsupported parse_mode"),
    ],
)
async def test_send_message_refusals(
    api: Api, ann: int, text: str, parse_mode: str | None, description: str
) -> None:
    params = {"chat_id": ann, "text": text}
    if parse_mode:
        params["parse_mode"] = parse_mode
    status, body = await api("sendMessage", **params)
    assert status == 400
    assert body["ok"] is False
    assert body["error_code"] == 400
    assert body["description"].startswith(description)


async def test_send_message_length_counts_after_parsing(api: Api, ann: int) -> None:
    status, _ = await api(
        "sendMessage", chat_id=ann, text="<b>" + "x" * 4096 + "</b>", parse_mode="HTML"
    )
    assert status == 200
    status, _ = await api("sendMessage", chat_id=ann, text="x" * 4096)
    assert status == 200
    status, _ = await api("sendMessage", chat_id=ann, text="<b>x</b> & y")
    assert status == 200  # no parse mode: markup is plain text


async def test_send_to_unknown_chat_and_to_user_who_never_started(api: Api, emu: Emulator) -> None:
    status, body = await api("sendMessage", chat_id=4242, text="hi")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")
    emu.user(2002, "Bob")
    status, body = await api("sendMessage", chat_id=2002, text="hi")
    assert (status, body["description"]) == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )


@pytest.mark.parametrize(
    ("markup", "description"),
    [
        (
            {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 33}]]},
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            {"inline_keyboard": [[{"text": "x", "callback_data": ""}]]},
            "Bad Request: BUTTON_DATA_INVALID",
        ),
        (
            {"inline_keyboard": [[{"text": "x"}]]},
            "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the "
            "inline keyboard",
        ),
        (
            {"inline_keyboard": [{"text": "x", "callback_data": "y"}]},
            'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup should be an Array '
            "of Arrays",
        ),
        (
            {"inline_keyboard": [[{"text": "x", "url": "javascript:alert(1)"}]]},
            "Bad Request: BUTTON_URL_INVALID",
        ),
        ({"keyboard": "x"}, 'Bad Request: field "keyboard" of the ReplyKeyboardMarkup'),
        ({"something": True}, "Bad Request: can't parse reply keyboard markup JSON object"),
    ],
)
async def test_reply_markup_refusals(api: Api, ann: int, markup: object, description: str) -> None:
    status, body = await api("sendMessage", chat_id=ann, text="x", reply_markup=markup)
    assert status == 400
    assert body["description"].startswith(description)


async def test_callback_data_limit_is_64_bytes(api: Api, ann: int) -> None:
    markup = {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 32}]]}
    status, _ = await api("sendMessage", chat_id=ann, text="x", reply_markup=markup)
    assert status == 200


async def test_unparseable_reply_markup_string(form_api: Api, ann: int) -> None:
    status, body = await form_api(
        "sendMessage", chat_id=str(ann), text="x", reply_markup="{not json"
    )
    assert status == 400
    assert body["description"] == "Bad Request: can't parse reply keyboard markup JSON object"


async def test_reply_keyboard_is_shown_not_echoed_and_removable(
    api: Api, emu: Emulator, ann: int
) -> None:
    keyboard = {
        "keyboard": [[{"text": "Share phone", "request_contact": True}], ["Later"]],
        "resize_keyboard": True,
        "one_time_keyboard": True,
    }
    status, body = await api("sendMessage", chat_id=ann, text="Phone?", reply_markup=keyboard)
    assert status == 200
    assert "reply_markup" not in body["result"]
    user = emu.user(ann)
    assert user.keyboard == [[("Share phone", True)], [("Later", False)]]
    assert user.messages[-1].reply_keyboard == user.keyboard
    await api("sendMessage", chat_id=ann, text="Thanks", reply_markup={"remove_keyboard": True})
    assert user.keyboard is None
    assert user.messages[-1].removes_keyboard


async def test_contact_request_only_in_private_chats(api: Api, emu: Emulator) -> None:
    group = emu.group(-5001, "Friends")
    keyboard = {"keyboard": [[{"text": "Phone", "request_contact": True}]]}
    status, body = await api("sendMessage", chat_id=group.chat_id, text="x", reply_markup=keyboard)
    assert status == 400
    assert body["description"] == (
        "Bad Request: phone number can be requested in private chats only"
    )


async def test_link_preview_options(api: Api, ann: int) -> None:
    _, body = await api(
        "sendMessage",
        chat_id=ann,
        text="https://example.com",
        link_preview_options={"is_disabled": True},
    )
    assert body["result"]["link_preview_options"] == {"is_disabled": True}
    _, body = await api(
        "sendMessage", chat_id=ann, text="https://example.com", disable_web_page_preview=True
    )
    assert body["result"]["link_preview_options"] == {"is_disabled": True}


async def test_reply_parameters(api: Api, ann: int) -> None:
    _, body = await api("sendMessage", chat_id=ann, text="Yes", reply_parameters={"message_id": 1})
    assert body["result"]["reply_to_message"]["text"] == "/start"
    status, body = await api(
        "sendMessage", chat_id=ann, text="Yes", reply_parameters={"message_id": 99}
    )
    assert (status, body["description"]) == (400, "Bad Request: message to be replied not found")
    status, body = await api(
        "sendMessage",
        chat_id=ann,
        text="Yes",
        reply_parameters={"message_id": 99, "allow_sending_without_reply": True},
    )
    assert status == 200
    assert "reply_to_message" not in body["result"]


# -- sendPhoto and files --------------------------------------------------------------------


async def upload_photo(
    emu: Emulator, http: aiohttp.ClientSession, chat_id: int, image: bytes, **fields: str
) -> tuple[int, dict[str, object]]:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(chat_id))
    for key, value in fields.items():
        form.add_field(key, value)
    form.add_field("photo", image, filename="card.png", content_type="image/png")
    async with http.post(f"{emu.api_url}/sendPhoto", data=form) as response:
        return response.status, await response.json()


async def test_send_photo_upload_file_id_and_url(
    emu: Emulator, http: aiohttp.ClientSession, api: Api, ann: int
) -> None:
    image = png(40, 30)
    status, body = await upload_photo(
        emu, http, ann, image, caption="<b>Your card</b>", parse_mode="HTML"
    )
    assert status == 200
    message = body["result"]
    assert isinstance(message, dict)
    (size,) = message["photo"]
    assert (size["width"], size["height"], size["file_size"]) == (40, 30, len(image))
    assert message["caption"] == "Your card"
    assert message["caption_entities"] == [{"type": "bold", "offset": 0, "length": 9}]
    assert emu.file(size["file_id"]) == image
    sent = emu.user(ann).messages[-1]
    assert sent.photo == image
    assert sent.caption_html == "<b>Your card</b>"

    _, info = await api("getFile", file_id=size["file_id"])
    url = f"{emu.base_url}/file/bot{TOKEN}/{info['result']['file_path']}"
    async with http.get(url) as response:
        assert response.status == 200
        assert await response.read() == image

    _, again = await api("sendPhoto", chat_id=ann, photo=size["file_id"])
    assert again["result"]["photo"][0]["file_unique_id"] == size["file_unique_id"]
    status, by_url = await api("sendPhoto", chat_id=ann, photo=url)
    assert status == 200
    assert by_url["result"]["photo"][0]["width"] == 40


async def test_send_photo_attach_reference(
    emu: Emulator, http: aiohttp.ClientSession, ann: int
) -> None:
    form = aiohttp.FormData()
    form.add_field("chat_id", str(ann))
    form.add_field("photo", "attach://file7")
    form.add_field("file7", png(8, 8), filename="x.png")
    async with http.post(f"{emu.api_url}/sendPhoto", data=form) as response:
        assert response.status == 200
        assert (await response.json())["result"]["photo"][0]["width"] == 8


@pytest.mark.parametrize(
    ("photo", "caption", "description"),
    [
        ("AgACnonsense", None, "Bad Request: wrong file identifier/HTTP URL specified"),
        (None, None, "Bad Request: there is no photo in the request"),
        ("http://127.0.0.1:9/missing.png", None, "Bad Request: failed to get HTTP URL content"),
    ],
)
async def test_send_photo_reference_refusals(
    api: Api, ann: int, photo: str | None, caption: str | None, description: str
) -> None:
    params: dict[str, object] = {"chat_id": ann}
    if photo is not None:
        params["photo"] = photo
    status, body = await api("sendPhoto", **params)
    assert (status, body["description"]) == (400, description)


async def test_send_photo_content_refusals(
    emu: Emulator, http: aiohttp.ClientSession, ann: int
) -> None:
    status, body = await upload_photo(emu, http, ann, b"not an image")
    assert (status, body["description"]) == (400, "Bad Request: IMAGE_PROCESS_FAILED")
    status, body = await upload_photo(emu, http, ann, png(4, 4), caption="x" * 1025)
    assert (status, body["description"]) == (400, "Bad Request: message caption is too long")
    status, _ = await upload_photo(emu, http, ann, png(4, 4), caption="x" * 1024)
    assert status == 200


async def test_unknown_file(api: Api, emu: Emulator, http: aiohttp.ClientSession) -> None:
    status, body = await api("getFile", file_id="nope")
    assert (status, body["description"]) == (400, "Bad Request: invalid file_id")
    async with http.get(f"{emu.base_url}/file/bot{TOKEN}/photos/none.png") as response:
        assert response.status == 404


# -- editing and deleting -------------------------------------------------------------------


async def test_edit_message_text(api: Api, emu: Emulator, ann: int) -> None:
    _, sent = await api(
        "sendMessage", chat_id=ann, text="<b>10</b> points", parse_mode="HTML", reply_markup=BUTTON
    )
    message_id = sent["result"]["message_id"]
    status, body = await api(
        "editMessageText",
        chat_id=ann,
        message_id=message_id,
        text="<b>10</b> points",
        parse_mode="HTML",
        reply_markup=BUTTON,
    )
    assert status == 400
    assert body["description"].startswith(
        "Bad Request: message is not modified: specified "
        "new message content and reply markup are exactly"
    )
    status, body = await api(
        "editMessageText",
        chat_id=ann,
        message_id=message_id,
        text="<strong>10</strong> points",
        parse_mode="HTML",
        reply_markup=BUTTON,
    )
    assert status == 400  # same text and entities: still not modified
    status, body = await api(
        "editMessageText",
        chat_id=ann,
        message_id=message_id,
        text="<b>20</b> points",
        parse_mode="HTML",
    )
    assert status == 200
    edited = body["result"]
    assert edited["text"] == "20 points"
    assert "reply_markup" not in edited  # omitting the markup removes the keyboard
    assert isinstance(edited["edit_date"], int)
    sent_message = emu.user(ann).messages[-1]
    assert sent_message.text == "20 points"
    assert sent_message.buttons == []
    assert [version.text for version in sent_message.edits] == ["10 points"]
    assert sent_message.edits[0].reply_markup == BUTTON


async def test_edit_refusals(api: Api, ann: int) -> None:
    status, body = await api("editMessageText", chat_id=ann, message_id=999, text="x")
    assert (status, body["description"]) == (400, "Bad Request: message to edit not found")
    status, body = await api("editMessageText", chat_id=ann, message_id=1, text="x")
    assert (status, body["description"]) == (400, "Bad Request: message can't be edited")
    status, body = await api("editMessageCaption", chat_id=ann, message_id=999, caption="x")
    assert (status, body["description"]) == (400, "Bad Request: message to edit not found")
    _, sent = await api("sendMessage", chat_id=ann, text="x")
    status, body = await api(
        "editMessageCaption", chat_id=ann, message_id=sent["result"]["message_id"], caption="y"
    )
    assert (status, body["description"]) == (
        400,
        "Bad Request: there is no caption in the message to edit",
    )
    status, body = await api(
        "editMessageText",
        chat_id=ann,
        message_id=sent["result"]["message_id"],
        text="<i>y",
        parse_mode="HTML",
    )
    assert status == 400
    assert body["description"].startswith("Bad Request: can't parse entities")


async def test_edit_reply_markup(api: Api, emu: Emulator, ann: int) -> None:
    _, sent = await api("sendMessage", chat_id=ann, text="Pick", reply_markup=BUTTON)
    message_id = sent["result"]["message_id"]
    status, body = await api(
        "editMessageReplyMarkup", chat_id=ann, message_id=message_id, reply_markup=BUTTON
    )
    assert status == 400
    assert "message is not modified" in body["description"]
    other = {"inline_keyboard": [[{"text": "Done", "callback_data": "done"}]]}
    status, body = await api(
        "editMessageReplyMarkup", chat_id=ann, message_id=message_id, reply_markup=other
    )
    assert body["result"]["reply_markup"] == other
    status, body = await api("editMessageReplyMarkup", chat_id=ann, message_id=message_id)
    assert status == 200
    assert "reply_markup" not in body["result"]
    assert emu.user(ann).messages[-1].buttons == []
    status, body = await api(
        "editMessageReplyMarkup",
        chat_id=ann,
        message_id=message_id,
        reply_markup={"keyboard": [["x"]]},
    )
    assert status == 400


async def test_edit_caption(emu: Emulator, http: aiohttp.ClientSession, api: Api, ann: int) -> None:
    _, body = await upload_photo(emu, http, ann, png(2, 2), caption="old")
    message_id = body["result"]["message_id"]  # type: ignore[index]
    status, edited = await api(
        "editMessageCaption",
        chat_id=ann,
        message_id=message_id,
        caption="<i>new</i>",
        parse_mode="HTML",
    )
    assert status == 200
    assert edited["result"]["caption"] == "new"
    assert edited["result"]["caption_entities"] == [{"type": "italic", "offset": 0, "length": 3}]
    status, _ = await api(
        "editMessageCaption",
        chat_id=ann,
        message_id=message_id,
        caption="<i>new</i>",
        parse_mode="HTML",
    )
    assert status == 400
    status, body = await api("editMessageText", chat_id=ann, message_id=message_id, text="x")
    assert (status, body["description"]) == (
        400,
        "Bad Request: there is no text in the message to edit",
    )
    status, body = await api(
        "editMessageCaption", chat_id=ann, message_id=message_id, caption="x" * 1025
    )
    assert (status, body["description"]) == (400, "Bad Request: message caption is too long")


async def test_delete_message(api: Api, emu: Emulator, ann: int) -> None:
    _, sent = await api("sendMessage", chat_id=ann, text="bye")
    message_id = sent["result"]["message_id"]
    assert (await api("deleteMessage", chat_id=ann, message_id=message_id))[1]["result"] is True
    assert emu.user(ann).messages[-1].deleted
    status, body = await api("deleteMessage", chat_id=ann, message_id=message_id)
    assert (status, body["description"]) == (400, "Bad Request: message to delete not found")
    status, body = await api("editMessageText", chat_id=ann, message_id=message_id, text="x")
    assert body["description"] == "Bad Request: message to edit not found"


# -- callback queries -----------------------------------------------------------------------


async def test_answer_callback_query(api: Api, emu: Emulator, ann: int) -> None:
    await api("sendMessage", chat_id=ann, text="Pick", reply_markup=BUTTON)
    press = await emu.user(ann).press("Redeem")
    status, body = await api("answerCallbackQuery", callback_query_id=press.id, text="x" * 201)
    assert (status, body["description"]) == (400, "Bad Request: MESSAGE_TOO_LONG")
    status, body = await api(
        "answerCallbackQuery", callback_query_id=press.id, text="Redeemed!", show_alert=True
    )
    assert (status, body) == (200, {"ok": True, "result": True})
    assert press.answer is not None
    assert (press.answer.text, press.answer.show_alert) == ("Redeemed!", True)
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    status, body = await api("answerCallbackQuery", callback_query_id=press.id)
    assert (status, body["description"]) == (400, too_old)
    status, body = await api("answerCallbackQuery", callback_query_id="12345")
    assert (status, body["description"]) == (400, too_old)


# -- commands, chats, actions, menu ---------------------------------------------------------


async def test_commands_per_scope_and_language(api: Api, emu: Emulator) -> None:
    everyone = [
        {"command": "start", "description": "Start"},
        {"command": "balance", "description": "My points"},
    ]
    spanish = [{"command": "start", "description": "Empezar"}]
    admins = [{"command": "stats", "description": "Program stats"}]
    assert (await api("setMyCommands", commands=everyone))[1]["result"] is True
    await api("setMyCommands", commands=spanish, language_code="es")
    await api("setMyCommands", commands=admins, scope={"type": "chat", "chat_id": 1001})
    assert (await api("getMyCommands"))[1]["result"] == everyone
    assert (await api("getMyCommands", language_code="es"))[1]["result"] == spanish
    assert (await api("getMyCommands", language_code="de"))[1]["result"] == []
    _, body = await api("getMyCommands", scope={"type": "chat", "chat_id": 1001})
    assert body["result"] == admins
    assert emu.commands({"type": "chat", "chat_id": 1001}) == admins
    await api("deleteMyCommands", language_code="es")
    assert (await api("getMyCommands", language_code="es"))[1]["result"] == []
    status, body = await api(
        "setMyCommands", commands=[{"command": "Bad Command", "description": "x"}]
    )
    assert (status, body["description"]) == (400, "Bad Request: BOT_COMMAND_INVALID")
    status, _ = await api("setMyCommands", commands=everyone, scope={"type": "galaxy"})
    assert status == 400


async def test_get_chat_member(api: Api, emu: Emulator, ann: int) -> None:
    group = emu.group(
        -1001234, "Northwind news", kind="channel", username="northwind", bot_status="administrator"
    )
    _, body = await api("getChatMember", chat_id="@northwind", user_id=ann)
    assert body["result"]["status"] == "left"
    group.set_member(ann, "member")
    _, body = await api("getChatMember", chat_id=group.chat_id, user_id=ann)
    assert body["result"] == {"status": "member", "user": emu.user(ann).record.json()}
    group.set_member(ann, "kicked")
    _, body = await api("getChatMember", chat_id=group.chat_id, user_id=ann)
    assert body["result"]["until_date"] == 0
    _, body = await api("getChatMember", chat_id=group.chat_id, user_id=emu.bot.id)
    assert body["result"]["status"] == "administrator"
    assert body["result"]["can_post_messages"] is True
    _, body = await api("getChatMember", chat_id=ann, user_id=ann)
    assert body["result"]["status"] == "member"
    status, body = await api("getChatMember", chat_id=group.chat_id, user_id=777)
    assert (status, body["description"]) == (400, "Bad Request: user not found")


async def test_only_a_channels_admin_may_ask_who_is_in_it(
    api: Api, emu: Emulator, ann: int
) -> None:
    channel = emu.group(-1005678, "Northwind news", kind="channel", username="northwind_news")
    channel.set_member(ann, "member")
    status, body = await api("getChatMember", chat_id="@northwind_news", user_id=ann)
    assert (status, body["description"]) == (400, "Bad Request: member list is inaccessible")
    _, body = await api("getChatMember", chat_id=channel.chat_id, user_id=emu.bot.id)
    assert body["result"]["status"] == "member"
    channel.chat.bot_status = "administrator"
    _, body = await api("getChatMember", chat_id="@northwind_news", user_id=ann)
    assert body["result"]["status"] == "member"


async def test_get_chat(api: Api, emu: Emulator, ann: int) -> None:
    emu.group(-5001, "Friends")
    _, body = await api("getChat", chat_id=-5001)
    assert body["result"]["type"] == "group"
    assert body["result"]["title"] == "Friends"
    assert "accepted_gift_types" in body["result"]
    status, body = await api("getChat", chat_id="@nobody")
    assert (status, body["description"]) == (400, "Bad Request: chat not found")


async def test_send_chat_action(api: Api, ann: int) -> None:
    assert (await api("sendChatAction", chat_id=ann, action="typing"))[1]["result"] is True
    status, body = await api("sendChatAction", chat_id=ann, action="dancing")
    assert (status, body["description"]) == (400, "Bad Request: wrong parameter action in request")


async def test_menu_button(api: Api, ann: int) -> None:
    assert (await api("getChatMenuButton", chat_id=ann))[1]["result"] == {"type": "commands"}
    app = {"type": "web_app", "text": "Card", "web_app": {"url": "https://example.com"}}
    assert (await api("setChatMenuButton", chat_id=ann, menu_button=app))[1]["result"] is True
    assert (await api("getChatMenuButton", chat_id=ann))[1]["result"] == app


async def test_profile_texts(api: Api) -> None:
    await api("setMyDescription", description="Points for coffee")
    await api("setMyShortDescription", short_description="Kurz", language_code="de")
    assert (await api("getMyDescription"))[1]["result"] == {"description": "Points for coffee"}
    _, body = await api("getMyShortDescription", language_code="de")
    assert body["result"] == {"short_description": "Kurz"}
    assert (await api("getMyName"))[1]["result"] == {"name": "Northwind Loyalty"}


async def test_calls_are_logged_with_decoded_values(api: Api, emu: Emulator, ann: int) -> None:
    await api("sendMessage", chat_id=ann, text="hi")
    await api("sendMessage", chat_id=ann, text="")
    first, second = emu.calls_to("sendmessage")
    assert (first.ok, first.params) == (True, {"chat_id": ann, "text": "hi"})
    assert (second.ok, second.error) == (False, "Bad Request: message text is empty")
