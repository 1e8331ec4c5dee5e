"""First one wins for approvals: of concurrent approvals that the review needs
only one of, exactly one counts; the other is refused naming who approved."""

import threading

import pytest
from django.db import close_old_connections, connection

from incidentops.exceptions import Conflict
from reviews import services
from reviews.models import Review


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_one_wins(submitted, reviewer, reviewer2):
    needed = {req["group"]: req["count"] for req in submitted.required_approvals}
    assert needed.get("Reviewers") == 1, needed
    barrier = threading.Barrier(2)
    outcomes: dict = {}

    def approve(user):
        try:
            barrier.wait()
            review = Review.objects.get(pk=submitted.pk)
            outcomes[user.username] = services.review_approve(
                review=review, actor=user
            ).status
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcomes[user.username] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=approve, args=(u,)) for u in (reviewer, reviewer2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    close_old_connections()

    conflicts = [o for o in outcomes.values() if isinstance(o, Conflict)]
    done = [o for o in outcomes.values() if isinstance(o, str)]
    assert len(conflicts) == 1 and len(done) == 1, outcomes
    winner = next(name for name, o in outcomes.items() if isinstance(o, str))
    assert conflicts[0].holder == winner


@pytest.mark.django_db
def test_a_late_approval_is_a_409_naming_the_approver(submitted, reviewer, reviewer2):
    from tests.api.conftest import client_for

    needed = {req["group"]: req["count"] for req in submitted.required_approvals}
    services.review_approve(review=submitted, actor=reviewer)

    response = client_for(reviewer2).post(
        f"/api/v1/reviews/{submitted.pk}/approve/", {}, format="json"
    )

    assert response.status_code == 409, (response.json(), needed)
    assert response.json()["holder"] == reviewer.username
