"""The review service's use cases: one family, the submission's life, in `submissions`.

A package like every other service's `service/`, so the skeleton is the same everywhere; the
use cases stay in one module while they have one reason to change.
"""

from services.review.service.submissions import EXPIRE, PUBLISH, UNLOCK, Decision, ReviewService

__all__ = ["EXPIRE", "PUBLISH", "UNLOCK", "Decision", "ReviewService"]
