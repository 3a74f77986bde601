"""An organization's open job postings, a pure function of (seed, organization)."""

from __future__ import annotations

import hashlib
import random
import re
from datetime import timedelta
from typing import Any, Final

from mock_server.domain.documents import OrganizationDocument
from mock_server.domain.search import REFRESHED_BEFORE
from mock_server.domain.staff import ROLES
from mock_server.domain.vocabularies import COUNTRIES

#: Open postings per 100 employees, about (a small company has a few, a large one a few dozen).
POSTINGS_PER_HUNDRED: Final = 2.0
MAX_POSTINGS: Final = 60


def postings(seed: int, organization: OrganizationDocument) -> list[dict[str, Any]]:
    """The organization's job postings in Apollo's shape (OAS job_postings example), newest first."""
    domain = str(organization.get("primary_domain") or organization.get("id"))
    digest = hashlib.sha256(f"{seed}:postings:{domain}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    employees = organization.get("estimated_num_employees")
    size = employees if isinstance(employees, int) else 10
    count = min(MAX_POSTINGS, int(size * POSTINGS_PER_HUNDRED / 100 * rng.uniform(0.3, 1.7)))
    company = re.sub(r"[^a-z0-9]+", "-", str(organization.get("name") or domain).lower()).strip("-")
    home = next((c for c in COUNTRIES if c.name == organization.get("country")), COUNTRIES[0])
    jobs = []
    for index in range(count):
        role = rng.choice(ROLES)
        remote = rng.random() < 0.3
        city = None if remote else rng.choice(home.cities)
        posted = REFRESHED_BEFORE - timedelta(seconds=rng.randint(3_600, 60 * 86_400))
        seen = posted + timedelta(seconds=rng.randint(0, 2 * 86_400))
        title = re.sub(r"[^a-z0-9]+", "-", role.title.lower()).strip("-")
        number = int.from_bytes(hashlib.sha256(f"{domain}:{index}".encode()).digest()[:4], "big")
        jobs.append(
            {
                "id": hashlib.sha256(f"{seed}:posting:{domain}:{index}".encode()).hexdigest()[:24],
                "title": role.title,
                "url": f"https://www.linkedin.com/jobs/view/{title}-at-{company}-{number}",
                "city": None if city is None else city.name,
                "state": None if city is None else city.state,
                "country": home.name,
                "last_seen_at": seen.isoformat(timespec="milliseconds"),
                "posted_at": posted.isoformat(timespec="milliseconds"),
            }
        )
    jobs.sort(key=lambda job: str(job["posted_at"]), reverse=True)
    return jobs
