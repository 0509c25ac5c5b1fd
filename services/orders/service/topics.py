"""The orders outbox's topics: each names one effect on another service or the provider,
and `main.py` registers the use case that delivers it."""

FULFIL = "order.fulfil"
ACCEPT = "license.accept"
REVOKE = "license.revoke"
REFUND = "payment.refund"
RESUME = "payment.resume"
