"""The warehouse: which PostgreSQL is used, connections, and its schemas."""

from __future__ import annotations

from csc_warehouse.config import Settings, get_settings
from csc_warehouse.warehouse.embedded import EmbeddedWarehouse


def warehouse_url(settings: Settings | None = None, *, start: bool = True) -> str:
    """The libpq URL of the warehouse in use: CSCW_WAREHOUSE_URL, else the embedded server
    (started when ``start``)."""
    settings = settings or get_settings()
    if settings.warehouse_url:
        return settings.warehouse_url
    wh = EmbeddedWarehouse(settings)
    return wh.start() if start else wh.url()
