"""One module per feature; each exposes async handlers `(ctx, event, member) -> actions`."""
