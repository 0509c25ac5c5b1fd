"""The review service's tables and the queries on them."""
