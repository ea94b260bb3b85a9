"""TA generation: from raw samples to a Splunk add-on that passed its own sandbox check (format,
breaking, timestamps, fields, CIM, self-check and repair; engine.packaging builds the archive),
deterministic by default with a planner seam for an LLM."""
