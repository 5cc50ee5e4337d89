"""The one upload checker and store: files are recognised by content, never by name.

Accepted: PDF, JPEG, PNG and XLSX, at most MAX_UPLOAD_MB. A file is stored once, outside static/,
at UPLOAD_DIR/<sha256[:2]>/<sha256>; the database keeps the hash, size, type and original name.
Filings use it now; the back office reuses it for audit reports and announcement attachments.
`check_document()` adds what identity evidence needs: PDF, JPEG or PNG only, and a file that opens
(pypdf reads the page tree, Pillow decodes the image).

    try:
        upload = check_upload(request.files["file"])
    except UploadRefused as refused:
        form.file.errors.append(refused.message)
    else:
        path = store_upload(upload)
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import filetype
from flask import current_app, send_file
from PIL import Image
from pypdf import PdfReader

from portal.i18n import gettext as _
from portal.refusals import Refusal

# content type → what we tell the person
ACCEPTED = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXTENSIONS = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    XLSX: "xlsx",
}


class UploadRefused(Refusal):
    """The file may not be stored; `message` is the Chinese explanation shown next to the field."""


@dataclass
class CheckedUpload:
    data: bytes
    sha256: str
    size: int
    content_type: str
    original_name: str


def max_bytes() -> int:
    return int(current_app.config["MAX_UPLOAD_MB"]) * 1024 * 1024


def sniff_content_type(data: bytes) -> str | None:
    """Return the accepted content type the bytes really are, or None."""
    kind = filetype.guess(data[:8192])
    if kind is None:
        return None
    if kind.mime in (XLSX, "application/zip"):
        # A zip with the two parts every workbook has; anything else zipped is refused.
        return XLSX if _is_xlsx(data) else None
    if kind.mime in ACCEPTED:
        return kind.mime
    return None


def _is_xlsx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names


def safe_name(name: str | None) -> str:
    """Keep only the last path part of the name the browser sent, at most 200 characters."""
    base = PurePosixPath((name or "").replace("\\", "/")).name.strip()
    base = "".join(ch for ch in base if ch.isprintable())
    return base[-200:] or "file"


def check_upload(storage) -> CheckedUpload:
    """Read a werkzeug FileStorage and accept it, or raise UploadRefused with the reason."""
    if storage is None or not getattr(storage, "filename", ""):
        raise UploadRefused(_("请选择要上传的文件。"))
    limit = max_bytes()
    data = storage.stream.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused(
            _(
                "文件超过 %(mb)s MB，未能上传。请压缩或拆分后重试。",
                mb=current_app.config["MAX_UPLOAD_MB"],
            )
        )
    if not data:
        raise UploadRefused(_("文件是空的，请重新选择。"))
    content_type = sniff_content_type(data)
    if content_type is None:
        raise UploadRefused(
            _(
                "无法识别为 PDF、JPEG、PNG 或 XLSX 文件（系统按文件内容识别，与文件名无关）。请上传这几种格式之一。"
            )
        )
    return CheckedUpload(
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        content_type=content_type,
        original_name=safe_name(storage.filename),
    )


def path_for(sha256: str) -> Path:
    if len(sha256) != 64 or any(ch not in "0123456789abcdef" for ch in sha256):
        raise ValueError("not a SHA-256 digest")
    return Path(current_app.config["UPLOAD_DIR"]) / sha256[:2] / sha256


def store_upload(upload: CheckedUpload) -> Path:
    """Write the bytes once under their hash (an identical file is stored only once)."""
    path = path_for(upload.sha256)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".part")
        temporary.write_bytes(upload.data)
        os.replace(temporary, path)
    return path


# ---------------------------------------------------------------- documents: PDF or image, readable

DOCUMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
# A scan of an A4 page at 600 dpi is about 35 megapixels; a larger "image" is refused unread.
MAX_DOCUMENT_PIXELS = 50_000_000


def check_document(storage) -> CheckedUpload:
    """Accept a scanned or electronic document (a licence, a signed letter): check_upload(), then
    the type must be PDF, JPEG or PNG and the file must open as one. No OCR: what it says is for
    the person who reviews it."""
    upload = check_upload(storage)
    if upload.content_type not in DOCUMENT_TYPES:
        raise UploadRefused(_("请上传 PDF 文件或 JPEG、PNG 图片（扫描件或照片）。"))
    readable = (
        _readable_pdf(upload.data)
        if upload.content_type == "application/pdf"
        else _readable_image(upload.data)
    )
    if not readable:
        raise UploadRefused(_("文件已损坏、不完整或有密码保护，无法打开。请重新扫描或导出后上传。"))
    return upload


def _readable_pdf(data: bytes) -> bool:
    """A PDF whose page tree opens and holds at least one page, without a password."""
    try:
        # pypdf warns (and, in strict mode, raises) on the many small defects real scanners leave.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                return False
            return len(reader.pages) > 0
    # A damaged file can make the parser fail in many ways; each one means "cannot be read".
    except Exception:
        return False


def _readable_image(data: bytes) -> bool:
    """A JPEG or PNG that decodes whole, within MAX_DOCUMENT_PIXELS."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_DOCUMENT_PIXELS:
                    return False
                image.verify()  # structure and checksums (PNG CRCs)
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # every pixel: a truncated file fails here
        return True
    except Exception:  # as for PDFs: any decoder failure means "cannot be read"
        return False


# Types a browser may show in the page (PDF, images); any other type is always a download.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})


def send_stored(item, download: bool = False, framed: bool = False):
    """Send a stored file (an attachment row: sha256, content_type, original_name) to someone
    already allowed to see it. The type is the one stored when the upload was checked by its
    content, never the file name's. PDF and images are shown inline unless `download`; `framed`
    lets the portal's own pages show them in a frame (they run no script either way)."""
    inline = item.content_type in INLINE_TYPES and not download
    response = send_file(
        path_for(item.sha256),
        mimetype=item.content_type,
        as_attachment=not inline,
        download_name=item.original_name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; object-src 'self'; frame-ancestors 'self'"
        if inline and framed
        else "default-src 'none'; sandbox"
    )
    return response
