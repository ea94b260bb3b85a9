"""Splunk Common Information Model: vendored data model definitions and compliance checks."""
