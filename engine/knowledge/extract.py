"""Text extraction from knowledge documents, one function per document kind.

A section is a titled piece of text (a markdown heading's body, a PDF page, one stanza of an
existing TA) so that retrieval can say where a snippet came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from engine.conf.parse import ConfFile, parse_conf, render_conf
from engine.samples import SampleError, read_sample_text

DocumentKind = Literal["markdown", "text", "pdf", "ta_archive"]
DOCUMENT_KINDS: tuple[str, ...] = get_args(DocumentKind)
MAX_TEXT_CHARS = 5_000_000
"""Largest markdown or text document read (characters); the rest is ignored."""


class KnowledgeExtractionError(ValueError):
    """A knowledge document whose text cannot be extracted (names the document and why)."""


@dataclass(frozen=True)
class Section:
    title: str
    text: str


def _read_text(path: Path) -> str:
    try:
        return read_sample_text(path, max_chars=MAX_TEXT_CHARS)
    except SampleError as exc:
        raise KnowledgeExtractionError(str(exc).replace("sample ", "document ", 1)) from exc


def _heading(line: str) -> tuple[int, str] | None:
    stripped = line.lstrip()
    level = len(stripped) - len(stripped.lstrip("#"))
    if 1 <= level <= 6 and stripped[level : level + 1] in (" ", ""):
        title = stripped[level:].strip().rstrip("#").strip()
        return (level, title) if title else None
    return None


def markdown_sections(text: str, *, title: str) -> list[Section]:
    """One section per heading; the title is the heading path (`Doc > Props > LINE_BREAKER`)."""
    sections: list[Section] = []
    path: list[tuple[int, str]] = []
    body: list[str] = []
    in_fence = False

    def flush() -> None:
        content = "\n".join(body).strip()
        if content:
            sections.append(Section(" > ".join([title, *(h for _, h in path)]), content))
        body.clear()

    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        heading = None if in_fence else _heading(line)
        if heading is None:
            body.append(line)
            continue
        flush()
        level, name = heading
        path = [(lvl, h) for lvl, h in path if lvl < level] + [(level, name)]
    flush()
    return sections


def text_sections(text: str, *, title: str) -> list[Section]:
    content = text.strip()
    return [Section(title, content)] if content else []


def pdf_sections(path: Path, *, title: str) -> list[Section]:
    """One section per page with text; scanned PDFs (no text layer) are refused clearly."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise KnowledgeExtractionError(f"document {path}: PDF is password-protected")
        pages = [(number, page.extract_text() or "") for number, page in enumerate(reader.pages, 1)]
    except (PdfReadError, OSError, ValueError) as exc:
        if isinstance(exc, KnowledgeExtractionError):
            raise
        raise KnowledgeExtractionError(f"document {path}: not a readable PDF ({exc})") from exc
    sections = [Section(f"{title} > page {n}", text.strip()) for n, text in pages if text.strip()]
    if not sections:
        raise KnowledgeExtractionError(
            f"document {path}: PDF has no extractable text (a scan without a text layer?)"
        )
    return sections


def ta_directory_sections(root: Path, *, title: str) -> list[Section]:
    """One section per stanza of every .conf in `default/` and `local/` of an unpacked TA."""
    sections: list[Section] = []
    for conf_path in sorted(root.rglob("*.conf")):
        if conf_path.parent.name not in ("default", "local"):
            continue
        conf = parse_conf(conf_path.read_text(encoding="utf-8", errors="replace"))
        relative = conf_path.relative_to(root).as_posix()
        for name, stanza in conf.stanzas.items():
            if not stanza.settings:
                continue
            single = ConfFile(path=relative, stanzas={name: stanza})
            sections.append(Section(f"{title} > {relative} [{name}]", render_conf(single).strip()))
    if not sections:
        raise KnowledgeExtractionError(
            f"document {title}: the TA holds no stanzas in default/ or local/ .conf files"
        )
    return sections
