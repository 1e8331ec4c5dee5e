"""The role-wide groups (CONTRACT.md). Migrations create them; apps give them rights."""

RESPONDERS = "Responders"
INCIDENT_MANAGERS = "Incident managers"
REVIEWERS = "Reviewers"
EXECUTIVES = "Executives"
CONFIGURATORS = "Configurators"

ALL_GROUPS = (RESPONDERS, INCIDENT_MANAGERS, REVIEWERS, EXECUTIVES, CONFIGURATORS)
