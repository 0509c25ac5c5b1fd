"""The orders service's tables and the queries on them."""
