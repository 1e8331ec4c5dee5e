"""Provider hooks: the one list of what other apps may contribute to ``incidents``.

``incidents`` never imports the apps above it (``notifications``, ``reviews``).
Where its pages or API need something only those apps know, it asks this
registry, and the apps fill it in ``AppConfig.ready()``, as they connect to the
domain events in ``incidents.events``. Registering under a key that is already
registered replaces the earlier entry, so a second ``ready()`` is harmless. With
nothing registered, a page shows no such section and the incident carries no
such suggestion.

Panels (sections of a portal page)
----------------------------------
A ``Panel`` is a titled section rendered from the registering app's template.
``Panel.context(**arguments)`` returns the template's context, or ``None`` to
leave the section out for this request. It receives keyword arguments only,
per slot:

``Slot.INCIDENT``   request, incident
    The incident page's side column, after the incident's own sections. The
    viewer may see the incident; the panel must still hide what the viewer may
    not see of its own records.
``Slot.MY_WORK``    request
    ``/my/``: the signed-in person's own work, after actions and roles.
``Slot.INSIGHTS``   request, filters
    ``/insights/``: ``filters`` is the page's validated filter values (a dict,
    as the insights page defines them). ``Panel.figures(**arguments)``, when
    given, returns the panel's figures as rows (a list of dicts) for the
    page's CSV download.

Each section is rendered as ``<section class="panel" aria-labelledby=
"<key>-heading">`` with ``<h2 id="<key>-heading">title</h2>``, in ``order`` then
``key`` order, so ``key`` must be unique on the page.

Update audience
---------------
``register_update_audience(provider)``: a function ``provider(incident)`` that
answers who a stakeholder update on ``incident`` would reach now, as an
``UpdateAudience``, without writing anything. ``update_audience(incident)``
asks it (``None`` when nothing is registered). The incident page shows it
beside the update form, before anything is sent.

Search of past incidents
------------------------
``register_search_text(SearchText(key, fields))`` adds text lookups from
``Incident`` that ``/incidents/`` also searches (reviews: its summary, root
cause and lessons); ``register_list_filter(ListFilter(key, label, q))`` adds a
yes/no filter to that list (reviews: "has open follow-ups").

Role suggestions
----------------
A ``RoleSuggestionProvider`` answers ``suggest_roles(incident, user)`` with a
list of ``RoleSuggestion(role, user, reason)``: who might fill which role of the
incident (for example whoever is on call for its services). ``user`` is the
person looking, so a provider can leave out what that person may not see.
``role_suggestions()`` collects every provider's answers. Suggestions are only
ever shown: nobody is assigned by one, and only humans are suggested (control 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from django.template.loader import render_to_string

# --- Panels ---------------------------------------------------------------------


class Slot(StrEnum):
    """Where on the portal a panel appears."""

    INCIDENT = "incident"
    MY_WORK = "my_work"
    INSIGHTS = "insights"


@dataclass(frozen=True)
class Panel:
    """A section another app contributes to a portal page.

    ``key``: unique per page, also the section's heading id (``<key>-heading``).
    ``template``: rendered with the dict ``context(**arguments)`` returns.
    ``figures``: optional rows for a page that downloads its figures as CSV.
    """

    key: str
    title: str
    template: str
    context: Callable[..., dict[str, Any] | None]
    order: int = 100
    figures: Callable[..., list[dict[str, Any]]] | None = None


@dataclass(frozen=True)
class RenderedPanel:
    """A panel's title and HTML for one request."""

    key: str
    title: str
    html: str


_panels: dict[Slot, dict[str, Panel]] = {slot: {} for slot in Slot}


def register_panel(slot: Slot, panel: Panel) -> None:
    """Add ``panel`` to ``slot`` (replacing one registered under the same key)."""
    _panels[Slot(slot)][panel.key] = panel


def unregister_panel(slot: Slot, key: str) -> None:
    """Remove the panel registered under ``key``, if any."""
    _panels[Slot(slot)].pop(key, None)


def panels(slot: Slot) -> list[Panel]:
    """The panels registered for ``slot``, in display order."""
    return sorted(_panels[Slot(slot)].values(), key=lambda p: (p.order, p.key))


def render_panels(slot: Slot, *, request, **arguments) -> list[RenderedPanel]:
    """Each of ``slot``'s panels rendered for ``request``, leaving out those whose
    ``context`` returned ``None``. ``arguments`` are the slot's (module docstring).
    """
    rendered = []
    for panel in panels(slot):
        context = panel.context(request=request, **arguments)
        if context is None:
            continue
        html = render_to_string(panel.template, context, request=request)
        rendered.append(RenderedPanel(key=panel.key, title=panel.title, html=html))
    return rendered


# --- Update audience --------------------------------------------------------------


@dataclass(frozen=True)
class UpdateAudience:
    """Who a stakeholder update would reach: ``lists`` (their names), the
    ``channels`` it goes out on (names), ``people`` (display names or addresses,
    at most ``shown``; ``total`` is the full count of recipients), and
    ``withheld``: how many the list names but may not hear of a restricted
    incident (a count, never names)."""

    lists: list[str]
    channels: list[str]
    people: list[str]
    total: int
    withheld: int = 0


_audience: dict[str, Callable[[Any], UpdateAudience]] = {}


def register_update_audience(provider: Callable[[Any], UpdateAudience]) -> None:
    """Register the one function that answers ``update_audience`` (a second
    registration replaces the first)."""
    _audience["update"] = provider


def unregister_update_audience() -> None:
    """Remove the registered audience provider, if any."""
    _audience.pop("update", None)


def update_audience(incident) -> UpdateAudience | None:
    """Who a stakeholder update on ``incident`` would reach now, or ``None``
    when no app provides it. Writes nothing."""
    provider = _audience.get("update")
    return provider(incident) if provider else None


# --- Role suggestions -------------------------------------------------------------


@dataclass(frozen=True)
class RoleSuggestion:
    """``user`` might fill ``role`` (a ``Role.slug``) because of ``reason``
    (one short sentence a person reads, e.g. "On call for checkout-api")."""

    role: str
    user: Any
    reason: str


class RoleSuggestionProvider(Protocol):
    """What an app registers to suggest people for an incident's roles."""

    def suggest_roles(self, incident, user) -> list[RoleSuggestion]:
        """Suggestions for ``incident`` as ``user`` may see them. Must not write."""
        ...


_role_providers: dict[str, RoleSuggestionProvider] = {}


def register_role_suggestion_provider(
    key: str, provider: RoleSuggestionProvider
) -> None:
    """Add ``provider`` under ``key`` (replacing one registered under the same key)."""
    _role_providers[key] = provider


def unregister_role_suggestion_provider(key: str) -> None:
    """Remove the provider registered under ``key``, if any."""
    _role_providers.pop(key, None)


def role_suggestions(incident, user) -> list[RoleSuggestion]:
    """Every provider's suggestions for ``incident``, as ``user`` may see them.

    In registration order; only active humans (control 1: a service account is
    never suggested), nobody for a role they already hold on the incident, and
    each (role, person) once, with the first provider's reason.
    """
    if not _role_providers:
        return []
    holding = {
        (assignment.role.slug, assignment.user_id)
        for assignment in incident.current_assignments()
    }
    seen: set[tuple[str, int]] = set()
    suggestions = []
    for provider in list(_role_providers.values()):
        for suggestion in provider.suggest_roles(incident, user):
            person = suggestion.user
            pair = (suggestion.role, person.pk)
            if not person.is_human or pair in holding or pair in seen:
                continue
            seen.add(pair)
            suggestions.append(suggestion)
    return suggestions


# --- Searching past incidents ------------------------------------------------------
# ``/incidents/`` searches the incident's own text; other apps add theirs (the
# review's summary, root cause and lessons) and filters of their own ("has open
# follow-ups"), as lookups from ``Incident`` that this app never imports.


@dataclass(frozen=True)
class SearchText:
    """Text fields reached from ``Incident`` (``review__root_cause``) that the
    incident search also matches."""

    key: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class ListFilter:
    """A yes/no filter of the incidents list: ``q()`` is the ``Q`` on
    ``Incident`` that selects the incidents it keeps."""

    key: str
    label: str
    q: Callable[[], Any]


_search_texts: dict[str, SearchText] = {}
_list_filters: dict[str, ListFilter] = {}


def register_search_text(text: SearchText) -> None:
    _search_texts[text.key] = text


def search_fields() -> list[str]:
    """Every registered text lookup, in registration order."""
    return [field for text in _search_texts.values() for field in text.fields]


def register_list_filter(list_filter: ListFilter) -> None:
    _list_filters[list_filter.key] = list_filter


def list_filters() -> list[ListFilter]:
    return list(_list_filters.values())
