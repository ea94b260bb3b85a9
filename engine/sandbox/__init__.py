"""The local Splunk sandbox: applies a TA to raw samples the way Splunk's pipeline does."""
