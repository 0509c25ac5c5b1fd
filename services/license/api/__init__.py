"""The license service's HTTP routes: thin handlers that parse, call a use case and answer."""
