"""The orders service's problems: each with its HTTP status and stable `code`."""

from shared.problems import (
    ConflictError,
    NotFoundError,
    ProblemError,
    ServiceUnavailableError,
    ValidationProblem,
)


class OrderNotFoundError(NotFoundError):
    code = "order_not_found"
    title = "Order not found"


class InstanceNotFoundError(NotFoundError):
    code = "instance_not_found"
    title = "Instance not found"


class PaymentNotFoundError(NotFoundError):
    code = "payment_not_found"
    title = "Payment not found"


class UnknownProductError(ValidationProblem):
    code = "unknown_product"
    title = "No live product has this id"


class UnknownPlanError(ValidationProblem):
    code = "unknown_plan"
    title = "The product's live revision has no such plan"


class UnknownAddonError(ValidationProblem):
    code = "unknown_addon"
    title = "The product's live revision has no such add-on"


class CycleRequiredError(ValidationProblem):
    code = "cycle_required"
    title = "A subscription needs a `cycle`"


class CycleNotApplicableError(ValidationProblem):
    code = "cycle_not_applicable"
    title = "A one-time purchase takes no `cycle`"


class UnknownCycleError(ValidationProblem):
    code = "unknown_cycle"
    title = "The plan or add-on is not sold in this cycle"


class QuantityNotAllowedError(ValidationProblem):
    code = "quantity_not_allowed"
    title = "A new instance is bought one at a time (`quantity` 1)"


class RefundExceedsPaymentError(ValidationProblem):
    code = "refund_exceeds_payment"
    title = "The refund is more than was paid"


class InstanceEndedError(ConflictError):
    code = "instance_ended"
    title = "The instance has ended"


class PlanRetiredError(ConflictError):
    code = "plan_retired"
    title = "The plan is retired: no new sales"


class AddonRetiredError(ConflictError):
    code = "addon_retired"
    title = "The add-on is retired: no new sales"


class AddonIncompatibleError(ConflictError):
    code = "addon_incompatible"
    title = "The add-on is not compatible with the instance's plan"


class MaxPerInstanceExceededError(ConflictError):
    code = "max_per_instance_exceeded"
    title = "The instance would hold more packs of this add-on than allowed"


class OrderNotPayableError(ConflictError):
    code = "order_not_payable"
    title = "Only an order awaiting payment can be paid"


class OrderNotCancellableError(ConflictError):
    code = "order_not_cancellable"
    title = "Only an order awaiting payment can be cancelled"


class PaymentInProgressError(ConflictError):
    code = "payment_in_progress"
    title = "A payment of this order is in progress"


class AcceptanceNotRequiredError(ConflictError):
    code = "acceptance_not_required"
    title = "The product needs no acceptance"


class OrderNotAcceptableError(ConflictError):
    code = "order_not_acceptable"
    title = "Only a fulfilled order awaiting acceptance can be accepted"


class AcceptanceDeadlinePassedError(ConflictError):
    code = "acceptance_deadline_passed"
    title = "The acceptance deadline has passed"


class OrderNotRefundableError(ConflictError):
    code = "order_not_refundable"
    title = "Only a fulfilled order (before completion) can be refunded"


class InvalidSignatureError(ProblemError):
    status = 401
    code = "invalid_signature"
    title = "The webhook signature is missing, wrong or stale"


class PaymentProviderUnavailableError(ServiceUnavailableError):
    code = "payment_provider_unavailable"
    title = "The payment provider can't be reached"
