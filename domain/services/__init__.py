"""The use cases: async functions over a unit of work, one short transaction each.

This is the API that the bot, the HTTP API, the CLI and the tests call; nothing else
writes to storage.
"""
