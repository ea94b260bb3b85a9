"""The TA engine: samples, analysis, generation, conf model, packaging and the local sandbox.

Pure by design: no database, no Prefect, no network, nothing else of ours.
"""
