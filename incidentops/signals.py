"""Signals of the accounts core, for apps above it in the import direction.

``user_becoming_non_human(sender=User, user, actor, changes)``: sent by
``incidentops.services.user_update`` inside its transaction, before it saves a
change that makes a human (active, not a service account) non-human: becoming a
service account or inactive. ``changes`` maps each field to its new value.
Receivers check rules that need a human (control 1: the incident commander is
always a human) and refuse by raising ``DomainError``; nothing is saved then.
Receivers must not write.
"""

from django.dispatch import Signal

user_becoming_non_human = Signal()
