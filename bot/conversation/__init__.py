"""The conversation core: framework-neutral handlers from incoming events to outgoing actions.

Adapters (bot/telegram) turn a framework's update into an `Incoming` event and the
returned actions into Bot API calls; nothing here knows which framework runs.
"""
