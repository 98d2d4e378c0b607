"""Storage: typed models, migrations, the single writer path and query objects."""

from engine.store.database import DatabaseError, Store, default_db_url, display_url

__all__ = ["DatabaseError", "Store", "default_db_url", "display_url"]
