"""Normalisation of identifying parameters and identity resolution (mock_server.domain.matching)."""

from __future__ import annotations

import pytest

from mock_server.domain.errors import InvalidParameter
from mock_server.domain.matching import (
    Identity,
    MatchQuery,
    ascii_fold,
    derived_email,
    domain_for_organization_name,
    normalize_domain,
    normalize_email,
    normalize_hashed_email,
    normalize_id,
    normalize_linkedin_url,
    normalize_name,
    resolve,
)

TIM_LINKEDIN = "http://www.linkedin.com/in/tim-zheng-677ba010"


@pytest.mark.parametrize(
    "raw",
    ["tim@apollo.io", "  Tim@Apollo.IO  ", "TIM@APOLLO.IO", "\ttim@apollo.io\n"],
)
def test_email_is_stripped_and_lowercased(raw: str) -> None:
    assert normalize_email(raw) == "tim@apollo.io"


@pytest.mark.parametrize(
    "raw",
    [
        "not-an-email",
        "tim@",
        "@apollo.io",
        "tim@apollo",
        "tim apollo@apollo.io",
        "tim@@apollo.io",
        ".tim@apollo.io",
        "tim..zheng@apollo.io",
        "tim@-apollo.io",
        "a" * 250 + "@x.io",
    ],
)
def test_malformed_email_is_rejected_naming_the_field(raw: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        normalize_email(raw)
    assert caught.value.field == "email"
    assert caught.value.status == 422


@pytest.mark.parametrize(
    "raw",
    [
        "apollo.io",
        "APOLLO.IO",
        " apollo.io ",
        "www.apollo.io",
        "http://apollo.io",
        "https://www.apollo.io/",
        "https://www.apollo.io/pricing?x=1",
        "@apollo.io",
        "apollo.io.",
        "apollo.io:443",
    ],
)
def test_domain_is_reduced_to_its_bare_host(raw: str) -> None:
    assert normalize_domain(raw) == "apollo.io"


@pytest.mark.parametrize("raw", ["apollo", "not a domain", "http://", "-x.com", "a" * 300 + ".com"])
def test_malformed_domain_is_rejected(raw: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        normalize_domain(raw)
    assert caught.value.field == "domain"


@pytest.mark.parametrize(
    "raw",
    [
        TIM_LINKEDIN,
        "https://www.linkedin.com/in/tim-zheng-677ba010/",
        "linkedin.com/in/tim-zheng-677ba010",
        "www.linkedin.com/in/tim-zheng-677ba010",
        "https://linkedin.com/in/Tim-Zheng-677ba010?trk=public_profile",
        "  HTTPS://WWW.LINKEDIN.COM/in/tim-zheng-677ba010/  ",
        "https://uk.linkedin.com/in/tim-zheng-677ba010",
        "https://www.linkedin.com/in/tim-zheng-677ba010#about",
    ],
)
def test_linkedin_url_is_canonical(raw: str) -> None:
    assert normalize_linkedin_url(raw) == TIM_LINKEDIN


@pytest.mark.parametrize(
    "raw",
    [
        "https://www.linkedin.com/company/apolloio",
        "https://example.com/in/tim",
        "tim-zheng",
        "https://www.linkedin.com/in/",
        "https://www.linkedin.com/in/a/b",
        "https://evil.com/linkedin.com/in/tim",
    ],
)
def test_non_profile_linkedin_url_is_rejected(raw: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        normalize_linkedin_url(raw)
    assert caught.value.field == "linkedin_url"


def test_hashed_email_accepts_md5_and_sha256_in_any_case() -> None:
    md5 = "8d935115b9ff4489f2d1f9249503cadf"
    sha = "97817c0c49994eb500ad0a5e7e2d8aed51977b26424d508f66e4e8887746a152"
    assert normalize_hashed_email(md5.upper()) == md5
    assert normalize_hashed_email(f" {sha} ") == sha


@pytest.mark.parametrize("raw", ["abc", "z" * 32, "a" * 40, "a" * 65, "a" * 100_000])
def test_other_hashes_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidParameter) as caught:
        normalize_hashed_email(raw)
    assert caught.value.field == "hashed_email"


def test_id_must_be_24_hex() -> None:
    assert normalize_id(" 587CF802F65125CAD923A266 ") == "587cf802f65125cad923a266"
    for raw in ("587cf802", "587cf802f65125cad923a26g", "x" * 24, "5" * 25):
        with pytest.raises(InvalidParameter) as caught:
            normalize_id(raw)
        assert caught.value.field == "id"


def test_names_are_stripped_and_collapsed_keeping_unicode() -> None:
    assert normalize_name("  Tim   Zheng ") == "Tim Zheng"
    assert normalize_name("José\u00a0 Müller 🚀") == "José Müller 🚀"
    with pytest.raises(InvalidParameter) as caught:
        normalize_name("x" * 1000, "first_name")
    assert caught.value.field == "first_name"


def test_ascii_folding() -> None:
    assert ascii_fold("José") == "jose"
    assert ascii_fold("Weiß") == "weiss"
    assert ascii_fold("Łukasz") == "lukasz"
    assert ascii_fold("O'Brien-Smith") == "obriensmith"
    assert ascii_fold("東京") == ""


def test_organization_name_becomes_a_domain() -> None:
    assert domain_for_organization_name("Acme Widgets, Inc.") == "acmewidgets.com"
    assert domain_for_organization_name("Apollo.io") == "apollo.io"
    assert domain_for_organization_name("Müller GmbH") == "muller.com"
    assert domain_for_organization_name("🚀") is None


def test_resolution_priority_is_id_email_hash_linkedin_name() -> None:
    everything = MatchQuery(
        id="587cf802f65125cad923a266",
        email="tim@apollo.io",
        hashed_email="8d935115b9ff4489f2d1f9249503cadf",
        linkedin_url=TIM_LINKEDIN,
        first_name="Tim",
        last_name="Zheng",
        domain="apollo.io",
    )
    assert resolve(everything) == Identity("id", "587cf802f65125cad923a266")
    no_id = everything._replace(id=None)
    assert resolve(no_id) == Identity("email", "tim@apollo.io")
    no_email = no_id._replace(email=None)
    assert resolve(no_email) == Identity("hash", "8d935115b9ff4489f2d1f9249503cadf")
    no_hash = no_email._replace(hashed_email=None)
    assert resolve(no_hash) == Identity("linkedin", TIM_LINKEDIN)
    no_linkedin = no_hash._replace(linkedin_url=None)
    assert resolve(no_linkedin) == Identity("email", "tim.zheng@apollo.io")


def test_name_without_employer_or_nothing_at_all_is_no_match() -> None:
    assert resolve(MatchQuery()) is None
    assert resolve(MatchQuery(name="Tim Zheng")) is None
    assert resolve(MatchQuery(first_name="Tim", last_name="Zheng")) is None
    assert resolve(MatchQuery(first_name="Tim", domain="apollo.io")) is None
    assert resolve(MatchQuery(name="Tim", domain="apollo.io")) is None
    assert resolve(MatchQuery(domain="apollo.io")) is None
    assert resolve(MatchQuery(email="  ", name="")) is None


def test_name_and_domain_is_the_same_identity_as_the_email() -> None:
    by_email = resolve(MatchQuery(email="Jose.Muller@Acme.com"))
    assert by_email == Identity("email", "jose.muller@acme.com")
    assert resolve(MatchQuery(first_name="José", last_name="Müller", domain="www.acme.com")) == by_email
    assert resolve(MatchQuery(name="  josé   MÜLLER ", domain="https://acme.com/")) == by_email
    assert resolve(MatchQuery(name="José Maria Müller", organization_name="Acme Inc.")) == by_email
    assert derived_email("José", "Müller", "acme.com") == "jose.muller@acme.com"


def test_unfoldable_names_keep_a_name_identity() -> None:
    identity = resolve(MatchQuery(first_name="太郎", last_name="山田", domain="acme.jp"))
    assert identity == Identity("name", "太郎 山田@acme.jp")
    assert identity is not None and identity.domain == "acme.jp"
    hidden = resolve(MatchQuery(first_name="太郎", last_name="山田", domain="nomatch.test"))
    assert hidden is not None and hidden.is_nomatch


def test_every_given_parameter_is_validated() -> None:
    with pytest.raises(InvalidParameter) as caught:
        resolve(MatchQuery(id="587cf802f65125cad923a266", email="nope"))
    assert caught.value.field == "email"
    with pytest.raises(InvalidParameter) as caught:
        resolve(MatchQuery(id="not-an-id"))
    assert caught.value.field == "id"
    with pytest.raises(InvalidParameter) as caught:
        resolve(MatchQuery(name="Tim Zheng", domain="not a domain"))
    assert caught.value.field == "domain"


def test_identity_helpers_for_test_inputs() -> None:
    assert Identity("email", "a@nomatch.test").is_nomatch
    assert Identity("email", "a@sub.nomatch.test").is_nomatch
    assert not Identity("email", "a@notnomatch.test").is_nomatch
    assert Identity("email", "a@partial.test").is_partial
    assert Identity("email", "a@eu.test").is_eu
    assert Identity("email", "a@eu.test").domain == "eu.test"
    assert Identity("id", "587cf802f65125cad923a266").domain is None
    by_name = resolve(MatchQuery(name="Ann Lee", domain="nomatch.test"))
    assert by_name is not None and by_name.is_nomatch


@pytest.mark.parametrize(
    "field", ["email", "domain", "linkedin_url", "hashed_email", "id", "name", "organization_name"]
)
def test_huge_inputs_are_rejected_by_length_or_form_before_any_pattern_work(field: str) -> None:
    huge = "a" * 100_000 + "@example.com" if field == "email" else "a" * 100_000
    extra = {"first_name": "Tim", "last_name": "Zheng"} if field in ("domain", "organization_name") else {}
    query = MatchQuery(**{field: huge, **extra})
    with pytest.raises(InvalidParameter) as caught:
        resolve(query)
    assert caught.value.field == field
    message = str(caught.value)
    assert "is longer than" in message or field in ("hashed_email", "id") and "hex" in message
