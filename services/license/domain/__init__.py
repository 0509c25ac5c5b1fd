"""License rules and value types: no web framework, database or HTTP client here."""
