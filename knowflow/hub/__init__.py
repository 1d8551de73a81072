"""The hub: an organization's server that holds only what its members push.

``db`` opens the store (SQLite by default, PostgreSQL for an organization) and
migrates it; ``admin`` manages members and audiences; ``push`` applies a member's
bundle; ``read`` answers search and export; ``app`` is the JSON API; ``client``
is what ``knowflow push`` runs on the member's machine.
"""
