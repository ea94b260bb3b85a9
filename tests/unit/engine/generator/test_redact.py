"""Redaction of what ships and what the LLM planner sends: host names, learned user names."""

from __future__ import annotations

import pytest

from engine.generator.redact import Redactor, is_host_name, is_identity_field


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("www.acme.com", True),
        ("db1.corp", True),
        ("mail.acme.co.uk", True),
        ("ns.example-isp.net", True),
        ("com.acme.App", False),
        ("java.lang.IllegalStateException", False),
        ("app.log", False),
        ("sshd.service", False),
        ("acme.de", False),  # two labels under a country domain: too often a file name
    ],
)
def test_host_names_are_told_from_class_and_file_names(text: str, host: bool) -> None:
    assert is_host_name(text) is host


@pytest.mark.parametrize(
    ("name", "identity"),
    [
        ("user", True),
        ("src_user", True),
        ("dest_host", True),
        ("ComputerName", True),
        ("logname", True),
        ("user_agent", False),
        ("login", False),  # "login accepted": the word before an outcome
        ("hostile", False),
    ],
)
def test_identity_fields_are_named_for_users_and_hosts(name: str, identity: bool) -> None:
    assert is_identity_field(name) is identity


def test_host_names_become_stable_placeholders_outside_e_mail_addresses() -> None:
    redactor = Redactor()
    text = "from ns.evil.com to bob@corp.acme.com via ns.evil.com"
    assert redactor.redact(text) == (
        "from host-2.example.net to user1@example.com via host-2.example.net"
    )


def test_learned_names_are_masked_wherever_they_occur_later() -> None:
    redactor = Redactor()
    assert redactor.learn("user", "alice") and redactor.learn("dest_host", "gw7")
    assert not redactor.learn("user", "10.0.0.1")  # an IP is masked as an IP anyway
    assert not redactor.learn("user", "-") and not redactor.learn("process", "sshd")
    masked = redactor.redact("alice logged in on gw7; /home/alice kept; alice2 is another")
    assert masked == "user-1 logged in on host-2; /home/alice kept; alice2 is another"


def test_a_mailbox_is_a_user_name_too() -> None:
    redactor = Redactor()
    assert redactor.redact("mail carol@corp.example.com") == "mail user1@example.com"
    assert redactor.redact("login by carol") == "login by user-1"


def test_readme_examples_of_identity_fields_are_masked() -> None:
    redactor = Redactor(ip_shape=False)
    assert redactor.redact_field("src_user", "dave") == "user-1"
    assert redactor.redact_field("dest_host", "web01.corp") == "host-2.example.net"
    assert redactor.redact_field("api_token", "abc") == "REDACTED"
    assert redactor.redact_field("bytes", "1234") == "1234"
