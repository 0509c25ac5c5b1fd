"""Documents are judged by their bytes: PDF, DOCX or UTF-8 text, nothing else."""

import io
import zipfile

import pytest

from services.catalog.domain.documents import DocumentType, sniff

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
    b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n"
    b"trailer <</Root 1 0 R>>\n%%EOF\n"
)

CONTENT_TYPES_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
    "</Types>"
)
RELS_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/>'
    "</Relationships>"
)
DOCUMENT_XML = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    "<w:body><w:p><w:r><w:t>Support agreement</w:t></w:r></w:p></w:body></w:document>"
)


def make_zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def make_docx() -> bytes:
    """A minimal but real Word document: what Word itself needs to open it."""
    return make_zip(
        {
            "[Content_Types].xml": CONTENT_TYPES_XML,
            "_rels/.rels": RELS_XML,
            "word/document.xml": DOCUMENT_XML,
        }
    )


def test_a_pdf_is_recognised() -> None:
    assert sniff(MINIMAL_PDF) is DocumentType.pdf


def test_a_docx_is_recognised() -> None:
    assert sniff(make_docx()) is DocumentType.docx


@pytest.mark.parametrize(
    "text",
    [
        "Support agreement\n\n1. We answer within a day.\r\n",
        "Vereinbarung über Support: Ärger wird behoben. 服务协议\tv2",
        "tabs\tand\fform feeds",
    ],
)
def test_utf8_text_is_recognised(text: str) -> None:
    assert sniff(text.encode("utf-8")) is DocumentType.text


def test_a_text_file_with_a_pdf_name_is_still_text() -> None:
    # sniff never sees a name: what a file is called can't make text into a PDF.
    content = b"This is agreement.pdf, honestly."

    assert sniff(content) is DocumentType.text


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 4,
        b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64,
        b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR",
        b"text with a NUL\x00 inside",
        "latin-1 text: caf\xe9".encode("latin-1"),
        b"\x1b[31m\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f control characters \x10\x11\x12",
    ],
    ids=["all-bytes", "elf", "png", "nul", "latin-1", "control-characters"],
)
def test_binary_junk_is_refused(content: bytes) -> None:
    assert sniff(content) is None


def test_a_zip_that_is_not_a_docx_is_refused() -> None:
    assert sniff(make_zip({"readme.txt": "hello", "data.csv": "a,b"})) is None


def test_a_zip_with_only_the_content_types_is_not_a_docx() -> None:
    assert sniff(make_zip({"[Content_Types].xml": CONTENT_TYPES_XML})) is None


def test_a_corrupt_zip_is_refused() -> None:
    assert sniff(b"PK\x03\x04" + b"\xff" * 200) is None


def test_a_docx_cut_short_is_refused() -> None:
    docx = make_docx()

    assert sniff(docx[: len(docx) // 2]) is None
