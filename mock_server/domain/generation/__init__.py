"""Generation: a person or an organization as a pure function of (seed, identity) or (seed, domain).

`people` makes persons, `organizations` their employers, `phones` the numbers reveals deliver, `team`
what one team sees on them (contacts, accounts); `common` holds the seeded helpers they share.
"""

from __future__ import annotations

from mock_server.domain.generation.common import ABSENT_SHARE, email_hashes, share
from mock_server.domain.generation.organizations import (
    OPTIONAL_ORGANIZATION_KEYS,
    enrich_shape,
    generate_organization,
)
from mock_server.domain.generation.people import (
    LOW_CONFIDENCE_SHARE,
    OPTIONAL_PERSON_KEYS,
    PARTIAL_SHARE,
    THIN_SHARE,
    Generated,
    generate_person,
    stub_person,
)
from mock_server.domain.generation.phones import fixture_phones, phone_record
from mock_server.domain.generation.team import organization_team_keys, team_keys

__all__ = [
    "ABSENT_SHARE",
    "LOW_CONFIDENCE_SHARE",
    "OPTIONAL_ORGANIZATION_KEYS",
    "OPTIONAL_PERSON_KEYS",
    "PARTIAL_SHARE",
    "THIN_SHARE",
    "Generated",
    "email_hashes",
    "enrich_shape",
    "fixture_phones",
    "generate_organization",
    "generate_person",
    "organization_team_keys",
    "phone_record",
    "share",
    "stub_person",
    "team_keys",
]
