"""Agreement documents: uploading one, and reading it as its owner or the public may."""

import hashlib

from services.catalog.db.models import DocumentRow
from services.catalog.domain.documents import MAX_DOCUMENT_BYTES, sniff
from services.catalog.errors import (
    DocumentNotFoundError,
    DocumentTooLargeError,
    EmptyDocumentError,
    UnsupportedDocumentTypeError,
)
from services.catalog.service.common import UseCases, is_owner
from shared.auth import Principal
from shared.clock import utcnow
from shared.ids import new_id


class DocumentUseCases(UseCases):
    """Uploading and reading agreement documents."""

    async def upload_document(
        self, partner: Principal, filename: str, content: bytes
    ) -> DocumentRow:
        """Store an agreement document after checking its size and content type."""
        if not content:
            raise EmptyDocumentError("The uploaded file has no content.")
        if len(content) > MAX_DOCUMENT_BYTES:
            raise DocumentTooLargeError(f"The document has {len(content)} bytes; 10 MiB at most.")
        media_type = sniff(content)
        if media_type is None:
            raise UnsupportedDocumentTypeError(
                "The content is not a PDF, a DOCX or UTF-8 plain text."
            )
        row = DocumentRow(
            id=new_id("doc"),
            partner_id=partner.sub,
            filename="".join(ch for ch in filename if ch.isprintable())[:255] or "document",
            media_type=media_type.value,
            size_bytes=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content=content,
            public=False,
            created_at=utcnow(),
        )
        async with self.uow() as uow:
            await uow.documents.add(row)
        return row

    async def get_document(
        self, principal: Principal | None, document_id: str, *, with_content: bool = False
    ) -> DocumentRow:
        """A document its owner may read, or anyone once a live product uses it."""
        async with self.uow(read=True) as uow:
            row = await uow.documents.get(document_id, with_content=with_content)
        visible = row is not None and (
            row.public or (principal is not None and is_owner(principal, row.partner_id))
        )
        if row is None or not visible:
            raise DocumentNotFoundError(f"No document {document_id} is visible to you.")
        return row
