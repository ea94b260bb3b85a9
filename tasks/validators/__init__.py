"""Validators: where a TA revision is judged, behind one protocol (`Validator`).

`local` runs the engine's Splunk emulator in this process; `kubernetes` runs the official
Splunk image as a Job and judges what that Splunk returns. The VALIDATING task only sees the
protocol: tagen's wiring picks the implementation (`VALIDATION_BACKEND`) and hands it over in
`tasks.backends`.

Why here, under tasks: a validator needs the engine (the report, the CIM checker, the TA
reader) and storage (the object store holding packages, samples and bundles); by the
dependency rule only tasks may import both. The kubernetes client stays inside
`tasks.validators.kubernetes`, imported only when that backend is chosen.
"""

from tasks.validators.local import LocalValidator
from tasks.validators.protocol import (
    SampleInput,
    ValidationInput,
    ValidationResult,
    Validator,
    failed_report,
)

__all__ = [
    "LocalValidator",
    "SampleInput",
    "ValidationInput",
    "ValidationResult",
    "Validator",
    "failed_report",
]
