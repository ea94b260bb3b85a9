"""The kubernetes validator: Splunk itself, as a Job per validation run (see validator.py)."""

from tasks.validators.kubernetes.settings import KubernetesValidatorSettings
from tasks.validators.kubernetes.validator import KubernetesValidator

__all__ = ["KubernetesValidator", "KubernetesValidatorSettings"]
