"""Which documents an agreement may be: PDF, DOCX or plain text, judged by content.

The upload's file name and declared content type are not trusted; the bytes decide. Written
with the standard library (magic bytes, the DOCX zip layout, UTF-8) because the three formats
are all we accept and each check is a few lines.
"""

import io
import zipfile
from enum import StrEnum

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


class DocumentType(StrEnum):
    pdf = "application/pdf"
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    text = "text/plain"


def sniff(content: bytes) -> DocumentType | None:
    """The type of a document judged by its content, or None if it is none we accept."""
    if content.startswith(b"%PDF-"):
        return DocumentType.pdf
    if content.startswith(b"PK\x03\x04"):
        return DocumentType.docx if _is_docx(content) else None
    if b"\x00" in content:
        return None
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(1 for ch in text if ch.isprintable() or ch in "\t\r\n\f")
    return DocumentType.text if printable >= len(text) * 0.98 else None


def _is_docx(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return False
    return "[Content_Types].xml" in names and "word/document.xml" in names
