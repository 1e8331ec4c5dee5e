"""Durations and the five whys read as people write them, on the review page,
the printable page and in the Markdown."""

import re
from datetime import timedelta

import pytest

from reviews import services
from reviews.templatetags.review_format import as_because, as_question, duration
from tests.reviews.conftest import write

RAW_TIMEDELTA = re.compile(r"\d+:\d\d:\d\d")


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(seconds=42), "42 s"),
        (timedelta(minutes=10, seconds=1, microseconds=506049), "10 min"),
        (timedelta(hours=1), "1 h"),
        (timedelta(hours=3, minutes=20, seconds=59), "3 h 20 min"),
        (timedelta(days=1), "1 d"),
        (timedelta(days=2, hours=4, minutes=30), "2 d 4 h"),
        (None, ""),
    ],
)
def test_duration_reads_like_people_say_it(span, text):
    assert duration(span) == text


@pytest.mark.parametrize(
    ("why", "question"),
    [
        ("Why did the pool run out?", "Why did the pool run out?"),
        ("Why did the pool run out", "Why did the pool run out?"),
        ("did the pool run out.", "Why did the pool run out?"),
    ],
)
def test_why_reads_as_a_question(why, question):
    assert as_question(why) == question


@pytest.mark.parametrize(
    ("because", "answer"),
    [
        ("A change skipped the check.", "Because a change skipped the check."),
        ("Kafka ran out of disk.", "Because Kafka ran out of disk."),
        (
            "CRM exports were not rate-limited.",
            "Because CRM exports were not rate-limited.",
        ),
        ("because nobody owned it.", "Because nobody owned it."),
    ],
)
def test_because_keeps_names_and_lowers_ordinary_openers(because, answer):
    assert as_because(because) == answer


@pytest.fixture
def written(review, manager):
    """Submitted, so that the page shows the review rather than its forms."""
    write(review, manager)
    services.review_set_five_whys(
        review=review,
        actor=manager,
        whys=[
            ("Why did checkout fail?", "A configuration flag was removed."),
            ("Why was it removed?", "Kafka consumers no longer read it."),
        ],
    )
    return services.review_submit(review=review, actor=manager)


@pytest.mark.django_db
def test_review_page_print_and_markdown_format_durations_and_whys(
    client, written, manager
):
    client.force_login(manager)
    pages = {
        "page": client.get(f"/reviews/{written.pk}/").content.decode(),
        "print": client.get(f"/reviews/{written.pk}/print/").content.decode(),
        "markdown": client.get(f"/reviews/{written.pk}/review.md").content.decode(),
    }
    # the fixture's incident was resolved 3 h after detection
    for name, text in pages.items():
        assert not RAW_TIMEDELTA.search(text.split("Time to acknowledge")[1][:200]), (
            name
        )
        assert "3 h" in text, name
    for name in ("page", "print"):
        assert (
            "<li>Why did checkout fail? — Because a configuration flag was removed.</li>"
            in pages[name]
        ), name
        assert "Because Kafka consumers no longer read it." in pages[name]
    assert (
        "1. Why did checkout fail? — Because a configuration flag was removed."
        in (pages["markdown"])
    )
    assert "2. Why was it removed? — Because Kafka consumers" in pages["markdown"]
    assert "Why?" not in pages["markdown"]
