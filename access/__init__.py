"""Users, roles and logins: who may reach the dashboard, the CLI's user administration and the API.

``access.rules`` holds the pure rules (roles and permissions, login throttling, session expiry, password
policy); ``access.accounts`` applies them over the database. See docs/access.md.
"""
