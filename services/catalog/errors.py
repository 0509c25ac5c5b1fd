"""The catalog's problems: each with its HTTP status and stable `code`."""

from shared.problems import ConflictError, NotFoundError, ProblemError, ValidationProblem


class ProductNotFoundError(NotFoundError):
    code = "product_not_found"
    title = "Product not found"


class PlanNotFoundError(NotFoundError):
    code = "plan_not_found"
    title = "Plan not found"


class AddonNotFoundError(NotFoundError):
    code = "addon_not_found"
    title = "Add-on not found"


class RevisionNotFoundError(NotFoundError):
    code = "revision_not_found"
    title = "Revision not found"


class DocumentNotFoundError(NotFoundError):
    code = "document_not_found"
    title = "Document not found"


class DraftLockedError(ConflictError):
    code = "draft_locked"
    title = "The draft is locked by an open submission"


class LivePlanNotDeletableError(ConflictError):
    code = "live_plan_not_deletable"
    title = "A live plan can't be deleted; retire it instead"


class LiveAddonNotDeletableError(ConflictError):
    code = "live_addon_not_deletable"
    title = "A live add-on can't be deleted; retire it instead"


class PlanInUseError(ConflictError):
    code = "plan_in_use"
    title = "The plan is named by an add-on's compatible plans"


class RevisionNotPublishableError(ConflictError):
    code = "revision_not_publishable"
    title = "The revision is not the one under submission"


class ProductTypeImmutableError(ValidationProblem):
    code = "product_type_immutable"
    title = "The product type can't change after creation"


class InvalidConfigurationError(ValidationProblem):
    code = "invalid_configuration"
    title = "The plan or add-on configuration is not valid"


class UnknownPlanError(ValidationProblem):
    code = "unknown_plan"
    title = "A compatible plan is not a plan of this product"


class UnknownDocumentError(ValidationProblem):
    code = "unknown_document"
    title = "The agreement document is not one of yours"


class DraftInvalidError(ValidationProblem):
    code = "draft_invalid"
    title = "The draft can't be submitted"


class DocumentTooLargeError(ProblemError):
    status = 413
    code = "document_too_large"
    title = "The document is larger than 10 MiB"


class UnsupportedDocumentTypeError(ProblemError):
    status = 415
    code = "unsupported_document_type"
    title = "Documents must be PDF, DOCX or plain text"


class EmptyDocumentError(ValidationProblem):
    code = "empty_document"
    title = "The document is empty"
