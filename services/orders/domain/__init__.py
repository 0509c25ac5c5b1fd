"""Order rules: no web framework, database or HTTP client here."""
