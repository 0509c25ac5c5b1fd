"""The catalog's tables and the queries on them."""
