"""The structured answers the planner asks for, one pydantic model per question.

Written for OpenAI's strict structured outputs: every property is required (no defaults) and
no other property is allowed, so ``chat.completions.parse`` can send them as a strict
``json_schema``, and servers that only know ``json_object`` are held to the same model by
validation. Empty strings and lists say "nothing to propose".
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldRename(_Answer):
    id: str = Field(description="the id of the generic field, exactly as listed (f1, f2...)")
    new_name: str = Field(description="lower_snake_case name; the CIM name when one fits")
    reason: str


class FieldNamesAnswer(_Answer):
    renames: list[FieldRename]


class ProposedExtraction(_Answer):
    group: str = Field(description="the id of the event group, exactly as listed (g1, g2...)")
    regex: str = Field(description="PCRE2 regex with named groups (?<field_name>...)")
    reason: str


class ExtractionsAnswer(_Answer):
    extractions: list[ProposedExtraction]


class TimestampAnswer(_Answer):
    found: bool = Field(description="false when the events carry no timestamp of their own")
    time_prefix: str = Field(description="PCRE2 regex matching the text before the time, or ''")
    time_format: str = Field(description="Splunk strptime format, e.g. %Y-%m-%dT%H:%M:%S.%3N%z")
    max_timestamp_lookahead: int = Field(description="characters after TIME_PREFIX to read")
    time_zone: str = Field(description="IANA zone when the time carries no offset, else ''")


class CimAlias(_Answer):
    cim_field: str
    source_field: str


class CimEval(_Answer):
    cim_field: str
    expression: str = Field(description="SPL eval expression over the extracted fields")


class CimMapping(_Answer):
    data_model: str = Field(description="a data model exactly as listed, e.g. Authentication")
    tags: list[str] = Field(description="the tags the data model is selected by")
    search_terms: str = Field(
        description="SPL terms selecting the events of this model (after sourcetype=...), "
        "or '' for all events"
    )
    aliases: list[CimAlias]
    evals: list[CimEval]
    reason: str


class CimAnswer(_Answer):
    mappings: list[CimMapping]


class DescriptionAnswer(_Answer):
    description: str = Field(description="two to four plain sentences about the log source")
