"""Web pages served by `loyalty-bot run` beside the merchant API, on the same app and port:
the members' Mini App (and the staff's and merchant's pages), over the same domain services
as the chat. `bot.web.site` holds what the page groups share."""
