"""Trained versions of the learned triage model."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class TriageModelQuerySet(models.QuerySet):
    def without_pipeline(self):
        """Everything but the serialized pipeline, for listings and the version
        check each suggestion makes."""
        return self.defer("pipeline")


class TriageModel(models.Model):
    """One trained version of the learned triage model (``incidents.triage_model``).

    ``pipeline`` holds joblib bytes written only by ``triage_model_train``; rows are
    never edited, a retraining adds a version and the oldest ones are pruned. The
    held-out metrics of the model and of the rule baseline come from the same
    split, and decide whether each head (type, severity) is used at all.
    """

    version = models.PositiveIntegerField(unique=True)
    trained_at = models.DateTimeField(default=timezone.now)
    pipeline = models.BinaryField(editable=False)
    library_version = models.CharField(
        max_length=40, help_text="scikit-learn version that wrote the pipeline."
    )
    data_fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the training rows and their labels."
    )
    sample_count = models.PositiveIntegerField(help_text="Labelled incidents used.")
    train_count = models.PositiveIntegerField()
    test_count = models.PositiveIntegerField()
    type_accuracy = models.FloatField(null=True, blank=True)
    baseline_type_accuracy = models.FloatField(null=True, blank=True)
    severity_accuracy = models.FloatField(null=True, blank=True)
    baseline_severity_accuracy = models.FloatField(null=True, blank=True)
    type_usable = models.BooleanField(default=False)
    severity_usable = models.BooleanField(default=False)
    type_labels = models.JSONField(default=list, blank=True)
    severity_labels = models.JSONField(default=list, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    training_seconds = models.FloatField(default=0)

    objects = TriageModelQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"triage model v{self.version}"

    @property
    def is_usable(self) -> bool:
        return self.type_usable or self.severity_usable
