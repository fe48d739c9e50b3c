"""One module per feature: its handlers, then the `Feature` that declares its commands,
buttons, typed steps and who may use them (bot/conversation/routes.py)."""
