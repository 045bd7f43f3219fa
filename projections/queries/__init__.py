"""Read functions over the views; each takes ``scope``: the partner ids the caller may see, or None.

Authorisation is enforced here, where data is read: rows of partners outside ``scope`` never leave.
"""

from projections.queries.scope import Scope

__all__ = ["Scope"]
