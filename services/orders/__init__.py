"""The orders service: orders, payments, application instances and refunds."""
