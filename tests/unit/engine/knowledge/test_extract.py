"""Text extraction per knowledge document kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.knowledge.extract import (
    KnowledgeExtractionError,
    markdown_sections,
    pdf_sections,
    ta_directory_sections,
    text_sections,
)


def _pdf_with_text(lines: list[str]) -> bytes:
    """A minimal one-page PDF whose content stream draws `lines` with a standard font."""
    ops = "BT /F1 12 Tf 72 720 Td " + " ".join(f"({line}) Tj 0 -14 Td" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(ops)} >>\nstream\n{ops}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out


def test_markdown_sections_follow_heading_paths_and_ignore_code_fences():
    text = (
        "intro line\n\n# Props\nbreaking text\n## LINE_BREAKER\nregex here\n"
        "```\n# not a heading\n```\n# CIM\ntags\n"
    )
    sections = markdown_sections(text, title="Guide")
    assert [s.title for s in sections] == [
        "Guide",
        "Guide > Props",
        "Guide > Props > LINE_BREAKER",
        "Guide > CIM",
    ]
    assert "# not a heading" in sections[2].text


def test_text_sections_skip_blank_documents():
    assert text_sections("  \n", title="x") == []
    assert text_sections("hello", title="x")[0].text == "hello"


def test_pdf_pages_become_sections(tmp_path: Path):
    path = tmp_path / "guide.pdf"
    path.write_bytes(_pdf_with_text(["LINE_BREAKER must hold a capturing group"]))
    sections = pdf_sections(path, title="guide")
    assert sections[0].title == "guide > page 1"
    assert "capturing group" in sections[0].text


def test_broken_pdf_is_refused_with_the_document_name(tmp_path: Path):
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\nthis is not a pdf body")
    with pytest.raises(KnowledgeExtractionError, match=r"broken\.pdf"):
        pdf_sections(path, title="broken")


def test_ta_directory_sections_index_each_stanza(tmp_path: Path):
    default = tmp_path / "TA-demo" / "default"
    default.mkdir(parents=True)
    (default / "props.conf").write_text(
        "[demo:access]\nSHOULD_LINEMERGE = false\nREPORT-kv = demo_kv\n\n[empty]\n"
    )
    (default / "transforms.conf").write_text("[demo_kv]\nREGEX = (\\w+)=(\\S+)\nFORMAT = $1::$2\n")
    sections = ta_directory_sections(tmp_path, title="TA-demo.tgz")
    titles = [s.title for s in sections]
    assert titles == [
        "TA-demo.tgz > TA-demo/default/props.conf [demo:access]",
        "TA-demo.tgz > TA-demo/default/transforms.conf [demo_kv]",
    ]
    assert "REPORT-kv = demo_kv" in sections[0].text


def test_ta_without_stanzas_is_refused(tmp_path: Path):
    (tmp_path / "TA-empty" / "default").mkdir(parents=True)
    with pytest.raises(KnowledgeExtractionError, match="no stanzas"):
        ta_directory_sections(tmp_path, title="TA-empty")
