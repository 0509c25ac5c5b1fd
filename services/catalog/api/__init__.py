"""The catalog's HTTP routes: thin handlers that parse, call a use case and answer."""
