"""The merchant HTTP API (FastAPI): tills record purchases and refunds, check vouchers."""
