"""The orders service's HTTP routes."""
