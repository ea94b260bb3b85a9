"""TA generation: from raw samples to a validated Splunk add-on (format, breaking, timestamps,
fields, CIM, packaging), deterministic by default with a planner seam for an LLM."""
