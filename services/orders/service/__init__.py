"""The orders service's use cases: one process-wide `OrderService`, one module per family.

- `placing`: a dry-run quote, and the order stored `pending_payment`, priced from the
  product's live revision (a catalog call made between two short transactions).
- `paying`: pay, resume a pay that died, settle, and the provider's webhook.
- `fulfilling`: the relay mints a paid order's license.
- `changing`: the customer accepts or cancels, the partner refunds; the outbox handlers that
  carry those changes to license and the provider.
- `reading`: orders and instances, as their customer or partner may see them.

Every use case opens its transactions through the unit of work (`async with self.uow() as
uow:`; `self.uow(read=True)` for reads), applies the domain's moves, and adds effects on other
services to the outbox in the same transaction. No transaction is ever open during an HTTP
call. `records` holds the steps several families take inside a transaction, `offers` maps the
catalog's live revision onto the domain, `results` the types the use cases return.
"""

from services.orders.service.changing import Changing
from services.orders.service.fulfilling import Fulfilling
from services.orders.service.paying import Paying
from services.orders.service.placing import Placing
from services.orders.service.reading import Reading
from services.orders.service.records import INSTANCE_ENDED_REASON, INSTANCE_REFUNDED_REASON
from services.orders.service.results import InstanceState, OrderRequest, OrderState, Quote
from services.orders.service.topics import ACCEPT, FULFIL, REFUND, RESUME, REVOKE

__all__ = [
    "ACCEPT",
    "FULFIL",
    "INSTANCE_ENDED_REASON",
    "INSTANCE_REFUNDED_REASON",
    "REFUND",
    "RESUME",
    "REVOKE",
    "InstanceState",
    "OrderRequest",
    "OrderService",
    "OrderState",
    "Quote",
]


class OrderService(Placing, Paying, Fulfilling, Changing, Reading):
    """Every use case of the orders service; one per process, built in the app's lifespan.

    Each family is a class of its own over the same dependencies (`UseCases`), so a module
    holds one reason to change while the routes and the relay see one object.
    """
