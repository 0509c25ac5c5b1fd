"""The review service's HTTP routes."""
