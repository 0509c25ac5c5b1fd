"""The license service: signing keys, licenses and their versions, usage."""
