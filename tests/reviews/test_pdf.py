"""The review as a PDF (xhtml2pdf): what the printable page holds, and
nothing for someone who may not see the incident."""

from io import BytesIO

import pytest
from django.test import Client
from pypdf import PdfReader

from incidentops import groups
from reviews import services
from tests.factories import IncidentTypeFactory

pytestmark = pytest.mark.django_db


def _get(user, url):
    client = Client()
    client.force_login(user)
    return client.get(url)


def _text(response) -> str:
    reader = PdfReader(BytesIO(response.content))
    return " ".join(page.extract_text() for page in reader.pages)


def test_the_pdf_holds_the_review(review, manager):
    services.review_update(
        review=review,
        actor=manager,
        summary="Checkout failed for twenty minutes.",
        root_cause="A configuration flag was removed.",
    )
    response = _get(manager, f"/reviews/{review.pk}/review.pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"{review.incident.reference}-review.pdf" in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    text = " ".join(_text(response).split())
    assert review.incident.reference in text
    assert "Checkout failed for twenty minutes." in text
    assert "A configuration flag was removed." in text
    # the drafted response section is there, marked as a draft
    assert "How the response went" in text and "Draft" in text


def test_a_restricted_reviews_pdf_is_refused_to_someone_without_access(
    resolve, manager, outsider
):
    secret = IncidentTypeFactory(
        slug="insider-threat",
        restricted=True,
        restricted_groups=[groups.INCIDENT_MANAGERS],
    )
    review = resolve("SEV-2", incident_type=secret).review
    url = f"/reviews/{review.pk}/review.pdf"

    refused = _get(outsider, url)
    assert refused.status_code == 404
    assert b"%PDF" not in refused.content
    assert review.incident.title.encode() not in refused.content
    assert _get(manager, url).status_code == 200


def test_the_pdf_needs_a_login(review):
    response = Client().get(f"/reviews/{review.pk}/review.pdf")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
