"""A review as a PDF, rendered by xhtml2pdf (pure Python, on ReportLab; no
browser and no system library) from the same context as the printable page,
so it holds exactly what the reader may see there."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import reportlab
from django.template.loader import render_to_string
from xhtml2pdf import pisa

# ReportLab ships Bitstream Vera: wider coverage than the PDF base fonts.
FONTS = Path(reportlab.__file__).parent / "fonts"


class PdfError(Exception):
    """xhtml2pdf could not render the review."""


def review_pdf(context: dict, *, request=None) -> bytes:
    """The review page of ``context`` (``reviews.views.review_context``) as
    PDF bytes. Raises ``PdfError`` when rendering fails."""
    html = render_to_string(
        "reviews/review_pdf.html", {**context, "fonts": FONTS}, request=request
    )
    out = BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8")
    if result.err:
        raise PdfError(f"The PDF could not be rendered ({result.err} errors).")
    return out.getvalue()
