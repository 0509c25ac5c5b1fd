"""The review service: submissions of product drafts, the reviewer queue and decisions."""
