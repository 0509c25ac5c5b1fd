"""The license service's tables and the queries on them."""
