"""A product's live add-ons, fetched from the catalog and cached in the process for a short time.

They back the `suggestions` of a usage report: the moment to offer an expansion pack. The
catalog being down must not fail usage reporting, so an unreachable catalog gives `None`
("unavailable"), cached for a few seconds only, so that it is not asked on every report.
"""

import time
from collections.abc import Callable

from pydantic import ValidationError

from services.catalog.client import AddonInfo, CatalogClient, UpstreamProblem
from shared.http import UpstreamUnavailableError

UNAVAILABLE_TTL_SECONDS = 5.0
MAX_PRODUCTS = 10_000


class LiveAddons:
    """The live add-ons of products, by product id, with a time-to-live cache."""

    def __init__(
        self,
        catalog: CatalogClient,
        *,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._catalog = catalog
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, list[AddonInfo] | None]] = {}

    async def of_product(self, product_id: str) -> list[AddonInfo] | None:
        """The product's live add-ons (empty when nothing is live), None if unavailable."""
        now = self._clock()
        cached = self._cache.get(product_id)
        if cached is not None and now < cached[0]:
            return cached[1]
        addons: list[AddonInfo] | None
        try:
            addons = list((await self._catalog.get_live_product(product_id)).addons)
            ttl = self._ttl
        except UpstreamProblem as exc:
            if exc.upstream_code != "product_not_found":
                addons, ttl = None, min(self._ttl, UNAVAILABLE_TTL_SECONDS)
            else:
                addons, ttl = [], self._ttl
        except (UpstreamUnavailableError, ValidationError):
            addons, ttl = None, min(self._ttl, UNAVAILABLE_TTL_SECONDS)
        if len(self._cache) >= MAX_PRODUCTS:
            self._cache.clear()
        self._cache[product_id] = (now + ttl, addons)
        return addons
