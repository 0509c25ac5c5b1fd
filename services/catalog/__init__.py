"""The catalog service: products, drafts, revisions, plans, add-ons, agreements, documents."""
