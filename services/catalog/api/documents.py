"""Routes for agreement documents: upload (multipart) and read."""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response, UploadFile, status

from services.catalog.api.deps import Catalog
from services.catalog.api.schemas import DocumentView
from services.catalog.domain.documents import MAX_DOCUMENT_BYTES, DocumentType
from services.catalog.errors import (
    DocumentNotFoundError,
    DocumentTooLargeError,
    EmptyDocumentError,
    UnsupportedDocumentTypeError,
)
from shared.auth import Principal
from shared.problems import PayloadTooLargeError, ValidationProblem, problem_responses
from shared.security import AUTH_ERRORS, Partner, optional_principal

router = APIRouter(prefix="/v1/documents", tags=["documents"])

# The body limit of the upload route: the document plus room for the multipart framing.
UPLOAD_BODY_LIMIT = MAX_DOCUMENT_BYTES + 64 * 1024

# The reads are public; a valid partner token also shows the partner's own unpublished ones.
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
DocumentId = Annotated[str, Path(max_length=64)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Upload an agreement document",
    description="`multipart/form-data` with the field `file`: a PDF, DOCX or UTF-8 plain-text "
    "file of at most 10 MiB. The type is judged by the content, not the file name. The "
    "sha256 of the content is stored and returned.",
    operation_id="uploadDocument",
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "examples": {
                        "text": {
                            "summary": "A plain-text agreement",
                            "value": {"file": "Support: 24/7, first answer within 4 hours.\n"},
                        }
                    }
                }
            }
        }
    },
    responses=problem_responses(
        *AUTH_ERRORS,
        ValidationProblem,
        EmptyDocumentError,
        DocumentTooLargeError,
        PayloadTooLargeError,
        UnsupportedDocumentTypeError,
    ),
)
async def upload_document(file: UploadFile, partner: Partner, catalog: Catalog) -> DocumentView:
    content = await file.read(MAX_DOCUMENT_BYTES + 1)
    row = await catalog.upload_document(partner, file.filename or "document", content)
    return DocumentView.of(row)


@router.get(
    "/{document_id}",
    summary="Read a document's metadata",
    description="Its owner may always read it; anyone may once it is the agreement of a live "
    "add-on.",
    operation_id="getDocument",
    responses=problem_responses(DocumentNotFoundError),
)
async def get_document(
    document_id: DocumentId, viewer: OptionalPrincipal, catalog: Catalog
) -> DocumentView:
    row = await catalog.get_document(viewer, document_id)
    return DocumentView.of(row)


@router.get(
    "/{document_id}/content",
    summary="Download a document",
    description="The file as uploaded, with the media type found in its content; `ETag` is "
    "its sha256. Who may read it is as for its metadata.",
    operation_id="getDocumentContent",
    response_class=Response,
    responses={
        200: {
            "content": {str(media): {} for media in DocumentType},
            "description": "The file.",
        },
        **problem_responses(DocumentNotFoundError),
    },
)
async def get_document_content(
    document_id: DocumentId, viewer: OptionalPrincipal, catalog: Catalog
) -> Response:
    row = await catalog.get_document(viewer, document_id, with_content=True)
    return Response(
        row.content,
        media_type=row.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{_safe_filename(row.filename)}"',
            "ETag": f'"{row.sha256}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


def _safe_filename(name: str) -> str:
    return "".join(ch for ch in name if ch.isalnum() or ch in "._- ")[:100] or "document"
