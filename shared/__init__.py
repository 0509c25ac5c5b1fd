"""Infrastructure shared by every service: settings, problems, auth, database, HTTP plumbing.

Nothing in this package knows a business noun; the services own those.
"""
