"""What a client is asked to send: people/match parameters and bulk `details`, awkward ones included."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from contract_tests.strategies.schema import definition
from contract_tests.strategies.values import DOMAINS, FIRST_NAMES, LAST_NAMES, apollo_ids, emails, urls

#: Values a hand-built query string breaks: reserved characters (+ & # = ? / % space ') and non-ASCII.
AWKWARD_NAMES = ["O'Brien", "Anne Marie", "Zoë+Søren", "Smith & Sons", "#1 Fan", "50% Off", "José/María=?"]
AWKWARD_ORGANIZATIONS = ["AT&T", "Ben & Jerry's", "Procter + Gamble", "Müller GmbH", "#1 Labs", "100% Pure"]
AWKWARD_EMAILS = ["ada+apollo@example.com", "o'brien@acme.test", "zoë@müller.example", "a&b=c@example.com"]


def webhook_urls() -> st.SearchStrategy[str]:
    """`webhook_url`s as real integrations write them: their own query string, escapes, non-ASCII."""
    return st.builds(
        lambda path, token, name: f"https://hooks.example.com/apollo/{path}?token={token}&name={name}&v=1",
        st.sampled_from(["phones", "done/ok", "Zoë"]),
        st.sampled_from(["a+b%2Fc==", "x&y", "abc123"]),
        st.sampled_from(["Zoë_Søren", "AT%26T", "#1"]),
    )


def match_params() -> st.SearchStrategy[dict[str, Any]]:
    """people/match parameters a client is asked to send: an email, a name at a domain, a LinkedIn URL...

    Values include reserved and non-ASCII characters; some requests ask for phones with a `webhook_url`.
    """
    names = st.sampled_from(FIRST_NAMES + AWKWARD_NAMES)
    identifier = st.one_of(
        st.one_of(emails(), st.sampled_from(AWKWARD_EMAILS)).map(lambda e: {"email": e}),
        st.builds(
            lambda first, last, host: {"first_name": first, "last_name": last, "domain": host},
            names,
            st.sampled_from(LAST_NAMES),
            st.sampled_from(DOMAINS),
        ),
        st.builds(
            lambda name, organization: {"name": name, "organization_name": organization},
            names,
            st.sampled_from(AWKWARD_ORGANIZATIONS),
        ),
        urls("linkedin").map(lambda u: {"linkedin_url": u}),
        apollo_ids().map(lambda i: {"id": i}),
    )
    phones = webhook_urls().map(lambda u: {"reveal_phone_number": True, "webhook_url": u})
    flags = st.fixed_dictionaries({}, optional={"reveal_personal_emails": st.booleans(), "phones": phones})
    return st.builds(lambda a, b: {**a, **b.pop("phones", {}), **b}, identifier, flags)


#: The deliberate extremes of `match_params`: every reserved character, non-ASCII, a webhook_url.
AWKWARD_PARAMS: list[dict[str, Any]] = [
    {
        "first_name": "O'Brien & Co",
        "last_name": "Zoë+Søren #1",
        "organization_name": "AT&T 100% = ?/",
        "domain": "müller.example",
        "reveal_phone_number": True,
        "webhook_url": "https://hooks.example.com/apollo/Zoë?token=a+b%2Fc==&name=AT%26T&v=1",
    },
    {"email": "ada+apollo@müller.example", "reveal_personal_emails": True},
]


def bulk_details(size: int | None = None) -> st.SearchStrategy[list[dict[str, Any]]]:
    """bulk_match `details`: 1 to 10 people."""
    low, high = (size, size) if size is not None else (1, 10)
    asked = set(definition("person_details")["properties"])
    return st.lists(
        match_params().map(lambda p: {k: v for k, v in p.items() if k in asked}),
        min_size=low,
        max_size=high,
    )
