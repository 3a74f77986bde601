"""Deterministic, realistic Apollo persons and organizations, plus the fixture persons."""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import lz4.block

from mock_server.encoding import Encoded, dumps, loads
from mock_server.errors import InvalidParameter
from mock_server.matching import (
    EU_DOMAIN,
    NOMATCH_DOMAIN,
    PARTIAL_DOMAIN,
    Identity,
    ascii_fold,
    derived_email,
    domain_for_organization_name,
    is_test_domain,
    normalize_domain,
    normalize_linkedin_url,
)

#: Share of generated persons that come back partial (no organization, sparse profile).
PARTIAL_SHARE: Final = 0.15
#: Share of complete generated persons with a mobile phone number.
MOBILE_SHARE: Final = 0.6
#: Share of complete generated persons with at least one personal email.
PERSONAL_EMAIL_SHARE: Final = 0.45
#: Entries (ids, LinkedIn URLs, email hashes, emails) the alias index keeps, written when a person is
#: generated, oldest dropped first.
ALIAS_INDEX_SIZE: Final = 100_000
#: Generated organizations kept in memory, least recently used dropped first.
ORGANIZATION_CACHE_SIZE: Final = 5_000
#: Seed of the Faker instances that build the per-locale value pools (never the person seed).
_POOL_SEED: Final = 20_240_601
#: Mongo-style ids start with a creation timestamp; generated ones fall in 2015-2024.
_ID_EPOCH_START: Final = 1_420_070_400
_ID_EPOCH_SPAN: Final = 315_360_000
#: LZ4 high-compression level for cached person records (bench/: 9 is no smaller, and slower).
_PACK_LEVEL: Final = 4
#: Made-up persons whose records make the compression dictionary of a directory's generated persons.
_DICTIONARY_SAMPLES: Final = 6

# --------------------------------------------------------------------------------------------
# Reference tables: countries and their cities, roles, industries, technologies.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _City:
    name: str
    state: str
    postal_code: str
    area_code: str


@dataclass(frozen=True)
class _Country:
    name: str
    code: str
    locale: str
    weight: int
    gdpr: bool
    eu: bool
    calling_code: str
    mobile_prefixes: tuple[str, ...]
    mobile_length: int
    landline_length: int
    tlds: tuple[str, ...]
    free_mail: tuple[str, ...]
    cities: tuple[_City, ...]


def _cities(*rows: tuple[str, str, str, str]) -> tuple[_City, ...]:
    return tuple(_City(*row) for row in rows)


# fmt: off
_COUNTRIES: Final[tuple[_Country, ...]] = (
    _Country(
        "United States", "US", "en_US", 45, False, False, "1", (), 10, 10, ("com",),
        ("gmail.com", "yahoo.com", "outlook.com", "icloud.com"),
        _cities(
            ("San Francisco", "California", "94105", "415"),
            ("New York", "New York", "10001", "212"),
            ("Austin", "Texas", "78701", "512"),
            ("Seattle", "Washington", "98101", "206"),
            ("Boston", "Massachusetts", "02110", "617"),
            ("Chicago", "Illinois", "60601", "312"),
            ("Denver", "Colorado", "80202", "303"),
            ("Atlanta", "Georgia", "30303", "404"),
            ("Los Angeles", "California", "90012", "213"),
            ("Miami", "Florida", "33131", "305"),
            ("San Jose", "California", "95113", "408"),
            ("Raleigh", "North Carolina", "27601", "919"),
        ),
    ),
    _Country(
        "United Kingdom", "GB", "en_GB", 9, True, False, "44", ("7700", "7911", "7823"), 10, 10,
        ("co.uk", "uk"), ("gmail.com", "yahoo.co.uk", "hotmail.co.uk", "outlook.com"),
        _cities(
            ("London", "England", "EC2A 4NE", "20"),
            ("Manchester", "England", "M1 1AE", "161"),
            ("Edinburgh", "Scotland", "EH1 1YZ", "131"),
            ("Bristol", "England", "BS1 4DJ", "117"),
            ("Birmingham", "England", "B1 1BB", "121"),
            ("Leeds", "England", "LS1 4AP", "113"),
            ("Cambridge", "England", "CB2 1TN", "1223"),
        ),
    ),
    _Country(
        "Canada", "CA", "en_CA", 5, False, False, "1", (), 10, 10, ("ca",),
        ("gmail.com", "outlook.com", "yahoo.ca"),
        _cities(
            ("Toronto", "Ontario", "M5H 2N2", "416"),
            ("Vancouver", "British Columbia", "V6B 1A1", "604"),
            ("Montreal", "Quebec", "H3B 2Y5", "514"),
            ("Calgary", "Alberta", "T2P 1J9", "403"),
            ("Ottawa", "Ontario", "K1P 1J1", "613"),
            ("Waterloo", "Ontario", "N2L 3G1", "519"),
        ),
    ),
    _Country(
        "Germany", "DE", "de_DE", 6, True, True, "49", ("151", "160", "170", "171", "176"), 11,
        10, ("de",), ("gmail.com", "gmx.de", "web.de", "t-online.de"),
        _cities(
            ("Berlin", "Berlin", "10115", "30"),
            ("Munich", "Bavaria", "80331", "89"),
            ("Hamburg", "Hamburg", "20095", "40"),
            ("Frankfurt", "Hesse", "60311", "69"),
            ("Cologne", "North Rhine-Westphalia", "50667", "221"),
            ("Stuttgart", "Baden-Württemberg", "70173", "711"),
            ("Düsseldorf", "North Rhine-Westphalia", "40213", "211"),
        ),
    ),
    _Country(
        "France", "FR", "fr_FR", 5, True, True, "33", ("6", "7"), 9, 9, ("fr",),
        ("gmail.com", "orange.fr", "free.fr", "hotmail.fr"),
        _cities(
            ("Paris", "Île-de-France", "75002", "1"),
            ("Lyon", "Auvergne-Rhône-Alpes", "69002", "4"),
            ("Marseille", "Provence-Alpes-Côte d'Azur", "13001", "4"),
            ("Toulouse", "Occitanie", "31000", "5"),
            ("Bordeaux", "Nouvelle-Aquitaine", "33000", "5"),
            ("Nantes", "Pays de la Loire", "44000", "2"),
            ("Lille", "Hauts-de-France", "59000", "3"),
        ),
    ),
    _Country(
        "Spain", "ES", "es_ES", 3, True, True, "34", ("6", "7"), 9, 9, ("es",),
        ("gmail.com", "hotmail.es", "yahoo.es"),
        _cities(
            ("Madrid", "Community of Madrid", "28013", "91"),
            ("Barcelona", "Catalonia", "08002", "93"),
            ("Valencia", "Valencian Community", "46002", "96"),
            ("Seville", "Andalusia", "41001", "95"),
            ("Bilbao", "Basque Country", "48001", "94"),
            ("Málaga", "Andalusia", "29015", "95"),
        ),
    ),
    _Country(
        "Italy", "IT", "it_IT", 3, True, True, "39", ("3",), 10, 10, ("it",),
        ("gmail.com", "libero.it", "virgilio.it"),
        _cities(
            ("Milan", "Lombardy", "20121", "02"),
            ("Rome", "Lazio", "00184", "06"),
            ("Turin", "Piedmont", "10121", "011"),
            ("Naples", "Campania", "80133", "081"),
            ("Bologna", "Emilia-Romagna", "40121", "051"),
            ("Florence", "Tuscany", "50122", "055"),
        ),
    ),
    _Country(
        "Netherlands", "NL", "nl_NL", 3, True, True, "31", ("6",), 9, 9, ("nl",),
        ("gmail.com", "ziggo.nl", "outlook.com"),
        _cities(
            ("Amsterdam", "North Holland", "1012 AB", "20"),
            ("Rotterdam", "South Holland", "3011 AA", "10"),
            ("The Hague", "South Holland", "2511 BT", "70"),
            ("Utrecht", "Utrecht", "3511 AX", "30"),
            ("Eindhoven", "North Brabant", "5611 AB", "40"),
        ),
    ),
    _Country(
        "Brazil", "BR", "pt_BR", 4, False, False, "55", (), 11, 10, ("com.br",),
        ("gmail.com", "uol.com.br", "bol.com.br", "hotmail.com"),
        _cities(
            ("São Paulo", "São Paulo", "01310-100", "11"),
            ("Rio de Janeiro", "Rio de Janeiro", "20040-002", "21"),
            ("Belo Horizonte", "Minas Gerais", "30130-010", "31"),
            ("Curitiba", "Paraná", "80010-000", "41"),
            ("Porto Alegre", "Rio Grande do Sul", "90010-150", "51"),
            ("Brasília", "Federal District", "70040-010", "61"),
        ),
    ),
    _Country(
        "India", "IN", "en_IN", 8, False, False, "91", ("98", "97", "90", "81", "70"), 10, 10,
        ("in", "co.in"), ("gmail.com", "yahoo.co.in", "rediffmail.com"),
        _cities(
            ("Bengaluru", "Karnataka", "560001", "80"),
            ("Mumbai", "Maharashtra", "400001", "22"),
            ("New Delhi", "Delhi", "110001", "11"),
            ("Hyderabad", "Telangana", "500001", "40"),
            ("Chennai", "Tamil Nadu", "600001", "44"),
            ("Pune", "Maharashtra", "411001", "20"),
        ),
    ),
    _Country(
        "Australia", "AU", "en_AU", 4, False, False, "61", ("4",), 9, 9, ("com.au",),
        ("gmail.com", "bigpond.com", "outlook.com"),
        _cities(
            ("Sydney", "New South Wales", "2000", "2"),
            ("Melbourne", "Victoria", "3000", "3"),
            ("Brisbane", "Queensland", "4000", "7"),
            ("Perth", "Western Australia", "6000", "8"),
            ("Adelaide", "South Australia", "5000", "8"),
        ),
    ),
    _Country(
        "Sweden", "SE", "sv_SE", 2, True, True, "46", ("70", "72", "73"), 9, 9, ("se",),
        ("gmail.com", "hotmail.se", "telia.com"),
        _cities(
            ("Stockholm", "Stockholm County", "111 52", "8"),
            ("Gothenburg", "Västra Götaland County", "411 03", "31"),
            ("Malmö", "Skåne County", "211 20", "40"),
            ("Uppsala", "Uppsala County", "753 20", "18"),
        ),
    ),
    _Country(
        "Poland", "PL", "pl_PL", 2, True, True, "48", ("50", "60", "69", "79", "88"), 9, 9,
        ("pl",), ("gmail.com", "wp.pl", "onet.pl", "o2.pl"),
        _cities(
            ("Warsaw", "Masovian Voivodeship", "00-001", "22"),
            ("Kraków", "Lesser Poland Voivodeship", "31-001", "12"),
            ("Wrocław", "Lower Silesian Voivodeship", "50-001", "71"),
            ("Poznań", "Greater Poland Voivodeship", "61-001", "61"),
            ("Gdańsk", "Pomeranian Voivodeship", "80-001", "58"),
        ),
    ),
    _Country(
        "Ireland", "IE", "en_IE", 1, True, True, "353", ("83", "85", "86", "87", "89"), 9, 9,
        ("ie",), ("gmail.com", "eircom.net", "outlook.com"),
        _cities(
            ("Dublin", "County Dublin", "D02 XY45", "1"),
            ("Cork", "County Cork", "T12 X70A", "21"),
            ("Galway", "County Galway", "H91 E2K3", "91"),
            ("Limerick", "County Limerick", "V94 T9PX", "61"),
        ),
    ),
)
# fmt: on
_COUNTRY_WEIGHTS: Final = tuple(c.weight for c in _COUNTRIES)
_EU_COUNTRIES: Final = tuple(c for c in _COUNTRIES if c.eu)
_COUNTRY_BY_TLD: Final = {tld: c for c in _COUNTRIES for tld in c.tlds if tld != "com"}
# fmt: off
_GDPR_COUNTRY_NAMES: Final = frozenset(
    {c.name for c in _COUNTRIES if c.gdpr}
    | {
        "Austria", "Belgium", "Bulgaria", "Croatia", "Cyprus", "Czechia", "Czech Republic",
        "Denmark", "Estonia", "Finland", "Greece", "Hungary", "Latvia", "Lithuania",
        "Luxembourg", "Malta", "Portugal", "Romania", "Slovakia", "Slovenia", "Iceland",
        "Liechtenstein", "Norway",
    }
)
_FREE_MAIL_DOMAINS: Final = frozenset(
    {d for c in _COUNTRIES for d in c.free_mail}
    | {
        "googlemail.com", "hotmail.com", "live.com", "msn.com", "aol.com", "me.com", "mac.com",
        "protonmail.com", "proton.me", "gmx.com", "gmx.net", "mail.com", "yandex.com",
        "yandex.ru", "qq.com", "163.com", "zoho.com", "hey.com", "fastmail.com", "yahoo.fr",
        "yahoo.de", "hotmail.de", "hotmail.it", "outlook.de", "outlook.fr", "icloud.com",
    }
)
# fmt: on


@dataclass(frozen=True)
class _Role:
    title: str
    seniority: str
    departments: tuple[str, ...]
    subdepartments: tuple[str, ...]
    functions: tuple[str, ...]
    level: int
    weight: int


def _track(
    departments: tuple[str, ...],
    subdepartments: tuple[str, ...],
    functions: tuple[str, ...],
    *ladder: tuple[str, str, int],
) -> tuple[_Role, ...]:
    """One career track: titles from junior to senior sharing department and function."""
    levels = {
        "intern": 0,
        "entry": 1,
        "senior": 2,
        "manager": 3,
        "head": 4,
        "director": 4,
        "partner": 5,
        "vp": 5,
        "c_suite": 6,
        "founder": 6,
        "owner": 6,
    }
    roles = []
    for title, seniority, weight in ladder:
        depts = ("c_suite", *departments) if seniority == "c_suite" else departments
        subs = ("executive", *subdepartments) if seniority == "c_suite" else subdepartments
        roles.append(_Role(title, seniority, depts, subs, functions, levels[seniority], weight))
    return tuple(roles)


# fmt: off
_TRACKS: Final[tuple[tuple[int, tuple[_Role, ...]], ...]] = (
    (22, _track(
        ("master_engineering_technical",), ("software_development",), ("engineering",),
        ("Software Engineering Intern", "intern", 1), ("Software Engineer", "entry", 8),
        ("Senior Software Engineer", "senior", 9), ("Staff Software Engineer", "senior", 3),
        ("Engineering Manager", "manager", 4), ("Director of Engineering", "director", 2),
        ("VP of Engineering", "vp", 1), ("Chief Technology Officer", "c_suite", 1),
    )),
    (6, _track(
        ("master_engineering_technical",), ("data_science",), ("data_science", "engineering"),
        ("Data Analyst", "entry", 4), ("Data Scientist", "entry", 4),
        ("Senior Data Scientist", "senior", 4), ("Data Science Manager", "manager", 2),
        ("Head of Data", "head", 1),
    )),
    (4, _track(
        ("master_engineering_technical",), ("devops",), ("engineering",),
        ("DevOps Engineer", "entry", 4), ("Site Reliability Engineer", "senior", 3),
        ("Head of Infrastructure", "head", 1),
    )),
    (5, _track(
        ("master_information_technology",), ("it_operations",), ("information_technology",),
        ("IT Support Specialist", "entry", 4), ("Systems Administrator", "senior", 3),
        ("IT Manager", "manager", 3), ("Director of IT", "director", 1),
        ("Chief Information Officer", "c_suite", 1),
    )),
    (18, _track(
        ("master_sales",), ("sales",), ("sales",),
        ("Sales Development Representative", "entry", 6), ("Account Executive", "entry", 7),
        ("Senior Account Executive", "senior", 5), ("Sales Manager", "manager", 4),
        ("Director of Sales", "director", 2), ("VP of Sales", "vp", 2),
        ("Chief Revenue Officer", "c_suite", 1),
    )),
    (5, _track(
        ("master_sales",), ("business_development",), ("business_development",),
        ("Business Development Representative", "entry", 4),
        ("Business Development Manager", "manager", 4),
        ("Head of Partnerships", "head", 1),
    )),
    (10, _track(
        ("master_marketing",), ("marketing",), ("marketing",),
        ("Marketing Coordinator", "entry", 5), ("Growth Marketing Manager", "manager", 4),
        ("Senior Product Marketing Manager", "senior", 3),
        ("Content Marketing Manager", "manager", 3), ("Head of Marketing", "head", 2),
        ("VP of Marketing", "vp", 1), ("Chief Marketing Officer", "c_suite", 1),
    )),
    (6, _track(
        ("product_management",), ("product_management",), ("product_management",),
        ("Associate Product Manager", "entry", 3), ("Product Manager", "manager", 6),
        ("Senior Product Manager", "senior", 4), ("Head of Product", "head", 1),
        ("VP of Product", "vp", 1), ("Chief Product Officer", "c_suite", 1),
    )),
    (3, _track(
        ("design",), ("product_or_ui_ux_design",), ("arts_and_design",),
        ("Product Designer", "entry", 4), ("Senior Product Designer", "senior", 3),
        ("Design Manager", "manager", 2), ("Head of Design", "head", 1),
    )),
    (6, _track(
        ("master_finance",), ("finance",), ("finance",),
        ("Financial Analyst", "entry", 5), ("Senior Financial Analyst", "senior", 3),
        ("Finance Manager", "manager", 3), ("Director of Finance", "director", 2),
        ("VP of Finance", "vp", 1), ("Chief Financial Officer", "c_suite", 1),
    )),
    (3, _track(
        ("master_finance",), ("accounting",), ("accounting",),
        ("Staff Accountant", "entry", 4), ("Senior Accountant", "senior", 3),
        ("Controller", "director", 1),
    )),
    (5, _track(
        ("master_human_resources",), ("recruiting_and_talent_acquisition",),
        ("human_resources",),
        ("Recruiter", "entry", 5), ("Senior Technical Recruiter", "senior", 3),
        ("HR Manager", "manager", 3), ("Head of People", "head", 2),
        ("VP of People", "vp", 1), ("Chief People Officer", "c_suite", 1),
    )),
    (6, _track(
        ("master_operations",), ("operations",), ("operations",),
        ("Operations Analyst", "entry", 4), ("Operations Manager", "manager", 4),
        ("Director of Operations", "director", 2), ("VP of Operations", "vp", 1),
        ("Chief Operating Officer", "c_suite", 1),
    )),
    (5, _track(
        ("master_operations",), ("customer_success",), ("support",),
        ("Customer Support Specialist", "entry", 5), ("Customer Success Manager", "manager", 5),
        ("Director of Customer Success", "director", 1),
    )),
    (2, _track(
        ("master_legal",), ("legal",), ("legal",),
        ("Legal Counsel", "senior", 3), ("Senior Legal Counsel", "senior", 2),
        ("General Counsel", "vp", 1),
    )),
    (3, _track(
        ("consulting",), ("consulting",), ("consulting",),
        ("Consultant", "entry", 4), ("Senior Consultant", "senior", 3),
        ("Managing Consultant", "manager", 2), ("Partner", "partner", 1),
    )),
    (3, (
        _Role("Founder & CEO", "founder", ("c_suite",), ("executive", "founder"),
              ("entrepreneurship",), 6, 4),
        _Role("Co-Founder", "founder", ("c_suite",), ("founder",), ("entrepreneurship",), 6, 3),
        _Role("Chief Executive Officer", "c_suite", ("c_suite",), ("executive",),
              ("entrepreneurship",), 6, 2),
        _Role("Owner", "owner", ("c_suite",), ("executive",), ("entrepreneurship",), 6, 1),
    )),
)
# fmt: on
_TRACK_WEIGHTS: Final = tuple(weight for weight, _ in _TRACKS)


@dataclass(frozen=True)
class _Industry:
    name: str
    sector: str
    keywords: tuple[str, ...]
    weight: int


# fmt: off
_INDUSTRIES: Final[tuple[_Industry, ...]] = (
    _Industry("information technology & services", "IT", (
        "saas", "cloud computing", "software development", "it consulting", "managed services",
        "data analytics", "cybersecurity", "devops", "digital transformation", "b2b",
        "enterprise software", "api"), 10),
    _Industry("computer software", "IT", (
        "saas", "b2b", "enterprise software", "machine learning", "artificial intelligence",
        "workflow automation", "developer tools", "platform", "analytics", "mobile apps",
        "crm", "collaboration"), 9),
    _Industry("internet", "IT", (
        "e-commerce", "marketplace", "online platform", "consumer internet", "mobile apps",
        "digital media", "subscriptions", "advertising", "search", "community"), 4),
    _Industry("financial services", "Finance", (
        "payments", "fintech", "banking", "lending", "wealth management", "insurance",
        "compliance", "risk management", "investment", "credit cards"), 5),
    _Industry("marketing & advertising", "Marketing", (
        "digital marketing", "seo", "content marketing", "social media", "branding",
        "performance marketing", "paid media", "lead generation", "public relations"), 4),
    _Industry("hospital & health care", "Healthcare", (
        "healthcare", "telehealth", "patient care", "digital health", "clinical research",
        "medical devices", "health insurance", "wellness"), 4),
    _Industry("management consulting", "Consulting", (
        "strategy", "operations consulting", "change management", "due diligence",
        "transformation", "advisory", "process improvement"), 3),
    _Industry("retail", "Retail", (
        "retail", "e-commerce", "consumer goods", "omnichannel", "fashion", "supply chain",
        "loyalty programs", "point of sale"), 3),
    _Industry("logistics & supply chain", "Logistics", (
        "freight", "shipping", "warehousing", "last mile delivery", "fleet management",
        "supply chain", "3pl", "transportation"), 2),
    _Industry("education management", "Education", (
        "edtech", "online learning", "higher education", "corporate training", "k-12",
        "learning management systems"), 2),
    _Industry("real estate", "RealEstate", (
        "property management", "commercial real estate", "proptech", "residential",
        "brokerage", "leasing"), 2),
    _Industry("staffing & recruiting", "HR", (
        "recruiting", "talent acquisition", "staffing", "executive search", "hr services",
        "payroll"), 2),
)
# fmt: on
_INDUSTRY_WEIGHTS: Final = tuple(i.weight for i in _INDUSTRIES)

_TECHNOLOGIES: Final[tuple[tuple[str, str, str], ...]] = (
    ("google_analytics", "Google Analytics", "Analytics and Tracking"),
    ("google_tag_manager", "Google Tag Manager", "Tag Management"),
    ("hubspot", "Hubspot", "Marketing Automation"),
    ("marketo", "Marketo", "Marketing Automation"),
    ("salesforce", "Salesforce", "Customer Relationship Management"),
    ("zendesk", "Zendesk", "Support and Feedback"),
    ("intercom", "Intercom", "Support and Feedback"),
    ("slack", "Slack", "Other"),
    ("office_365", "Microsoft Office 365", "Other"),
    ("gmail", "Gmail", "Email Providers"),
    ("google_apps", "Google Apps", "Other"),
    ("amazon_aws", "Amazon AWS", "Hosting"),
    ("cloudflare_dns", "Cloudflare DNS", "Domain Name Services"),
    ("cloudflare_hosting", "CloudFlare Hosting", "Hosting"),
    ("nginx", "Nginx", "Load Balancers"),
    ("wordpress_org", "WordPress.org", "CMS"),
    ("wp_engine", "WP Engine", "CMS"),
    ("shopify", "Shopify", "E-commerce"),
    ("stripe", "Stripe", "Payments"),
    ("react", "React", "Frameworks and Programming Languages"),
    ("python", "Python", "Frameworks and Programming Languages"),
    ("node_js", "Node.js", "Frameworks and Programming Languages"),
    ("android", "Android", "Frameworks and Programming Languages"),
    ("mobile_friendly", "Mobile Friendly", "Other"),
    ("recaptcha", "reCAPTCHA", "Captcha"),
    ("typekit", "Typekit", "Fonts"),
    ("wistia", "Wistia", "Online Video Platforms"),
    ("youtube", "YouTube", "Online Video Platforms"),
    ("hotjar", "Hotjar", "Analytics and Tracking"),
    ("segment_io", "Segment.io", "Analytics and Tracking"),
    ("mailchimp", "MailChimp", "Email Marketing"),
    ("sendgrid", "SendGrid", "Email Delivery"),
    ("linkedin_marketing_solutions", "Linkedin Marketing Solutions", "Advertising Networks"),
    ("facebook_widget", "Facebook Widget", "Widgets"),
    ("drift", "Drift", "Widgets"),
    ("gravity_forms", "Gravity Forms", "Hosted Forms"),
    ("datadog", "Datadog", "Monitoring"),
    ("jira", "Jira", "Project Management"),
    ("github_hosting", "Github Hosting", "Hosting"),
    ("zoom", "Zoom", "Video Conferencing"),
)
_TECH_RECORDS: Final = tuple({"uid": u, "name": n, "category": c} for u, n, c in _TECHNOLOGIES)

# fmt: off
_FUNDING_STAGES: Final = ("Seed", "Series A", "Series B", "Series C", "Series D", "Series E")
_INVESTORS: Final = (
    "Sequoia Capital", "Accel", "Index Ventures", "Y Combinator", "Andreessen Horowitz",
    "Insight Partners", "General Catalyst", "Lightspeed Venture Partners", "Balderton Capital",
    "Atomico", "Bessemer Venture Partners", "Tiger Global Management", "SV Angel",
    "Kleiner Perkins", "Greylock Partners", "Northzone", "Point Nine", "HV Capital",
)
_WELL_KNOWN_EMPLOYERS: Final = (
    "Google", "Microsoft", "Amazon", "Salesforce", "Oracle", "IBM", "Accenture", "Deloitte",
    "PwC", "EY", "KPMG", "McKinsey & Company", "Goldman Sachs", "J.P. Morgan", "HubSpot",
    "Shopify", "SAP", "Atlassian", "Adobe", "Cisco", "Intuit", "Stripe", "Uber", "Airbnb",
)
_PERSON_KEYS: Final = (
    "id", "first_name", "last_name", "name", "linkedin_url", "title", "email_status",
    "photo_url", "twitter_url", "github_url", "facebook_url", "extrapolated_email_confidence",
    "headline", "email", "organization_id", "employment_history", "state", "city", "country",
    "contact_id", "contact", "revealed_for_current_team", "organization", "is_likely_to_engage",
    "intent_strength", "show_intent", "departments", "subdepartments", "functions", "seniority",
)
_NESTED_ORGANIZATION_KEYS: Final = (
    "id", "name", "website_url", "blog_url", "angellist_url", "linkedin_url", "twitter_url",
    "facebook_url", "primary_phone", "languages", "alexa_ranking", "phone", "linkedin_uid",
    "founded_year", "publicly_traded_symbol", "publicly_traded_exchange", "logo_url",
    "crunchbase_url", "primary_domain", "industry", "keywords", "estimated_num_employees",
    "industries", "secondary_industries", "snippets_loaded", "industry_tag_id",
    "industry_tag_hash", "retail_location_count", "raw_address", "street_address", "city",
    "state", "postal_code", "country", "owned_by_organization_id", "seo_description",
    "short_description", "suborganizations", "num_suborganizations", "annual_revenue_printed",
    "annual_revenue", "total_funding", "total_funding_printed", "latest_funding_round_date",
    "latest_funding_stage", "funding_events", "technology_names", "current_technologies",
    "org_chart_root_people_ids", "org_chart_sector", "org_chart_removed",
    "org_chart_show_department_filter",
)
_DEPARTMENT_HEAD_COUNT_KEYS: Final = (
    "engineering", "operations", "support", "marketing", "human_resources", "sales", "finance",
    "consulting", "legal", "arts_and_design", "accounting", "business_development",
    "information_technology", "education", "media_and_commmunication", "product_management",
    "entrepreneurship", "data_science", "administrative",
)
# fmt: on
_PHOTO_CHARS: Final = "abcdefghijklmnopqrstuvwxyz0123456789"
_NAME_SEPARATORS: Final = re.compile(r"[._\-+]+")

# --------------------------------------------------------------------------------------------
# Value pools built once per locale with Faker.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Pools:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    companies: tuple[str, ...]
    streets: tuple[str, ...]
    first_by_fold: Mapping[str, str]
    last_by_fold: Mapping[str, str]


_POOLS: dict[str, _Pools] = {}
_POOLS_LOCK = threading.Lock()
# Faker's pools, drawn once (bake_pools) and shipped: importing Faker at run time cost ~19 MB.
_POOLS_FILE = Path(__file__).with_name("name_pools.json")
_BAKED: dict[str, dict[str, list[str]]] | None = None


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def faker_pools(locale: str) -> dict[str, list[str]]:
    """The value pools of `locale` drawn from Faker: what name_pools.json holds (see bake_pools)."""
    from faker import Faker  # only to bake or check the pools: Faker costs ~19 MB and 0.4 s to load

    fake = Faker(locale)
    fake.seed_instance(_POOL_SEED)
    male = [fake.first_name_male() for _ in range(250)]
    female = [fake.first_name_female() for _ in range(250)]
    firsts = _unique(n for n in sorted(set(male) | set(female)) if " " not in n and ascii_fold(n))
    lasts = _unique(
        n for n in sorted({fake.last_name() for _ in range(400)}) if " " not in n and ascii_fold(n)
    )
    companies = _unique(sorted({fake.company().replace("\n", " ") for _ in range(120)} - {""}))
    streets = _unique(sorted({fake.street_address().replace("\n", ", ").strip() for _ in range(80)}))
    return {
        "first_names": list(firsts),
        "last_names": list(lasts),
        "companies": list(companies),
        "streets": list(streets),
    }


def pool_locales() -> list[str]:
    """Every locale a generated person can come from."""
    return sorted({country.locale for country in _COUNTRIES})


def bake_pools() -> None:
    """Rewrite name_pools.json from Faker (after changing the Faker pin or the pool sizes)."""
    document = {locale: faker_pools(locale) for locale in pool_locales()}
    text = json.dumps(document, ensure_ascii=False, indent=0, sort_keys=True)
    _POOLS_FILE.write_text(text + "\n", encoding="utf-8")


def _build_pools(locale: str) -> _Pools:
    global _BAKED
    if _BAKED is None:
        _BAKED = json.loads(_POOLS_FILE.read_text(encoding="utf-8"))
    baked = _BAKED[locale]
    firsts, lasts = tuple(baked["first_names"]), tuple(baked["last_names"])
    return _Pools(
        first_names=firsts,
        last_names=lasts,
        companies=tuple(baked["companies"]),
        streets=tuple(baked["streets"]),
        first_by_fold={ascii_fold(n): n for n in reversed(firsts)},
        last_by_fold={ascii_fold(n): n for n in reversed(lasts)},
    )


def _pools(locale: str) -> _Pools:
    pools = _POOLS.get(locale)
    if pools is None:
        with _POOLS_LOCK:
            pools = _POOLS.get(locale)
            if pools is None:
                pools = _build_pools(locale)
                _POOLS[locale] = pools
    return pools


# --------------------------------------------------------------------------------------------
# Small deterministic helpers.
# --------------------------------------------------------------------------------------------


def _digest(*parts: object) -> bytes:
    return hashlib.sha256(":".join(str(p) for p in parts).encode("utf-8")).digest()


def _rng(*parts: object) -> random.Random:
    return random.Random(int.from_bytes(_digest(*parts)[:8], "big"))


def _object_id(digest: bytes) -> str:
    """A Mongo-style 24-hex id: a 2015-2024 timestamp then 8 bytes of the digest."""
    stamp = _ID_EPOCH_START + int.from_bytes(digest[8:12], "big") % _ID_EPOCH_SPAN
    return f"{stamp:08x}{digest[12:20].hex()}"


def _next_ids(base: str, count: int) -> list[str]:
    """`count` consecutive ids after `base`, like the ids of one Apollo write."""
    value = int(base, 16)
    return [f"{(value + i + 1) % (1 << 96):024x}" for i in range(count)]


def _email_hashes(email: str) -> tuple[str, str]:
    data = email.strip().lower().encode("utf-8")
    return hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()  # noqa: S324


def _printed(amount: float) -> str:
    """Apollo's short money form: 850K, 12.5M, 1.2B."""
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if amount >= limit:
            text = f"{amount / limit:.1f}".removesuffix(".0")
            return f"{text}{suffix}"
    return str(int(amount))


def _month(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}-01"


def _months_before(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) - months
    return index // 12, index % 12 + 1


def _country_for_domain(domain: str, rng: random.Random) -> _Country:
    if is_test_domain(domain, EU_DOMAIN):
        return rng.choice(_EU_COUNTRIES)
    labels = domain.split(".")
    for size in (2, 1):
        if len(labels) > size:
            country = _COUNTRY_BY_TLD.get(".".join(labels[-size:]))
            if country is not None:
                return country
    return rng.choices(_COUNTRIES, _COUNTRY_WEIGHTS)[0]


def _organization_name(domain: str) -> str:
    label = domain.split(".")[0]
    words = [w for w in label.split("-") if w]
    if not words:
        return domain
    if len(words) == 1 and len(words[0]) <= 3:
        return words[0].upper()
    return " ".join(w.capitalize() for w in words)


def _company_domain(company: str, country: _Country, rng: random.Random) -> str:
    words = [ascii_fold(w) for w in re.split(r"[\s,&\-]+", company)]
    words = [w for w in words if w and w not in {"and", "und", "et", "e", "y", "i", "en"}]
    label = "-".join(words[:2]) or "company"
    tld = country.tlds[0] if rng.random() < 0.5 else "com"
    return f"{label[:63]}.{tld}"


def json_copy(value: Any) -> Any:
    """A deep copy of JSON-like data; mappings become plain dicts and tuples lists."""
    if isinstance(value, dict):  # the common case first: this runs on every match
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): json_copy(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [json_copy(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# The Person value object and its rendering.
# --------------------------------------------------------------------------------------------


class Packer:
    """Compresses person records with LZ4, against a dictionary of typical persons when given one.

    Measured in bench/: a generated person packs into about 0.75 KB with a dictionary (4.5 KB as
    JSON, tens of KB as dicts) and unpacks in about 1.5 µs (zstd: 3.4 µs, zlib: 15 µs).
    """

    __slots__ = ("zdict",)

    def __init__(self, zdict: bytes = b"") -> None:
        self.zdict = zdict[-65_536:]  # LZ4 looks back at most 64 KiB

    def pack(self, raw: bytes) -> bytes:
        """`raw` compressed."""
        packed: bytes = lz4.block.compress(
            raw, mode="high_compression", compression=_PACK_LEVEL, dict=self.zdict, store_size=True
        )
        return packed

    def unpack(self, packed: bytes) -> bytes:
        """What `pack` was given."""
        raw: bytes = lz4.block.decompress(packed, dict=self.zdict)
        return raw


_PLAIN = Packer()


class Person:
    """One Apollo person: the default JSON record plus what only reveals and webhooks show.

    The record and phones are kept as compressed JSON: a cached person costs well under 1 KB
    instead of tens of KB of dicts (the person cache decides resident memory), and a match splices
    the record's bytes into the response without copying or re-encoding a dict.
    """

    __slots__ = (
        "_packer",
        "_record",
        "_phones",
        "id",
        "email",
        "linkedin_url",
        "personal_emails",
        "gdpr",
        "partial",
        "has_mobile",
    )

    def __init__(
        self,
        record: Mapping[str, Any],
        personal_emails: tuple[str, ...],
        phone_numbers: tuple[Mapping[str, Any], ...],
        gdpr: bool,
        partial: bool,
        has_mobile: bool,
        packer: Packer = _PLAIN,
    ) -> None:
        self._packer = packer
        self._record = packer.pack(dumps(record))
        self._phones = packer.pack(dumps(phone_numbers)) if phone_numbers else b""
        self.id = str(record.get("id"))
        email, linkedin = record.get("email"), record.get("linkedin_url")
        self.email: str | None = email if isinstance(email, str) else None
        self.linkedin_url: str | None = linkedin if isinstance(linkedin, str) else None
        self.personal_emails = personal_emails
        self.gdpr = gdpr
        self.partial = partial
        self.has_mobile = has_mobile

    @property
    def record(self) -> dict[str, Any]:
        """A fresh copy of the default JSON record."""
        record: dict[str, Any] = loads(self.json())
        return record

    @property
    def phone_numbers(self) -> tuple[dict[str, Any], ...]:
        """Fresh copies of the person's phone numbers (what phone reveals deliver)."""
        return tuple(loads(self._packer.unpack(self._phones))) if self._phones else ()

    def json(self) -> bytes:
        """The default JSON record, encoded."""
        return self._packer.unpack(self._record)


def render(person: Person, *, reveal_personal_emails: bool) -> dict[str, Any]:
    """A fresh JSON-ready person; `personal_emails` only when revealed and not GDPR-protected."""
    record = person.record
    if not reveal_personal_emails or person.gdpr:
        return record
    out: dict[str, Any] = {}
    for key, value in record.items():
        out[key] = value
        if key == "email":
            out["personal_emails"] = list(person.personal_emails)
    out.setdefault("personal_emails", list(person.personal_emails))
    return out


def encoded(person: Person, *, reveal_personal_emails: bool) -> Encoded:
    """`render`'s answer already encoded: the cached bytes unless personal emails go in."""
    if not reveal_personal_emails or person.gdpr:
        return Encoded(person.json())
    return Encoded(dumps(render(person, reveal_personal_emails=True)))


# --------------------------------------------------------------------------------------------
# The directory.
# --------------------------------------------------------------------------------------------

_AliasKey = tuple[str, str]


def _alias_key(kind: str, value: str) -> int:
    """An alias index key: 64 bits of a hash of (kind, value).

    A full-size index holds 100,000 of them; as ints they take about half the memory of
    (kind, value) tuples of strings (bench/, a soak of never-seen emails). Two aliases sharing a
    key is less than a 1 in 10^9 chance over a full index.
    """
    digest = hashlib.blake2b(f"{kind}\t{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class AliasMap(Protocol):
    """Where the directory remembers which identity an id, LinkedIn URL or hash stands for."""

    def get(self, key: Any) -> Any:
        """The identity stored under `key`, or None."""
        ...

    def put(self, key: Any, value: Any, *, overwrite: bool = True) -> None:
        """Store `value` under `key`."""
        ...

    def clear(self) -> None:
        """Forget every alias."""
        ...


class LRUMap:
    """A small thread-safe LRU map."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: Any, value: Any, *, overwrite: bool = True) -> None:
        if self._capacity <= 0:
            return
        with self._lock:
            if key in self._data:
                if overwrite:
                    self._data[key] = value
                self._data.move_to_end(key)
                return
            self._data[key] = value
            while len(self._data) > self._capacity:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class PersonDirectory:
    """Finds the person an identity means: fixtures first, then aliases, then generation."""

    def __init__(
        self,
        seed: int,
        fixtures: Sequence[Mapping[str, Any]],
        cache_size: int = 10_000,
        *,
        alias_size: int = ALIAS_INDEX_SIZE,
        aliases: AliasMap | None = None,
    ) -> None:
        self.seed = seed
        self._persons = LRUMap(cache_size)
        self._organizations = LRUMap(min(cache_size, ORGANIZATION_CACHE_SIZE))
        self._aliases: AliasMap = aliases if aliases is not None else LRUMap(alias_size)
        self._fixtures: dict[_AliasKey, Person] = {}
        self._fixture_orgs: dict[str, Mapping[str, Any]] = {}
        self._fixture_ids: set[str] = set()
        self._generated_packer: Packer | None = None
        for record in fixtures:
            self._add_fixture(record)

    # -- public API ----------------------------------------------------------------------

    def find(self, identity: Identity) -> Person | None:
        """The person `identity` means, or None when Apollo would have no match."""
        if identity.is_nomatch:
            return None
        key = (identity.kind, identity.value)
        fixture = self._fixtures.get(key)
        if fixture is not None:
            return fixture
        canonical: Identity | None = self._aliases.get(_alias_key(*key))
        if canonical is None:
            if identity.kind in ("id", "hash"):
                return None  # never issued by this directory: Apollo has no such person
            canonical = identity
        fixture = self._fixtures.get((canonical.kind, canonical.value))
        if fixture is not None:
            return fixture
        person: Person | None = self._persons.get(canonical)
        if person is None:
            person = self._generate(canonical)
            self._persons.put(canonical, person)
            self._remember(person, canonical)
        return person

    def organization_for_domain(self, domain: str) -> dict[str, Any] | None:
        """The organization at `domain` (organizations/enrich shape), None for nomatch.test."""
        host = normalize_domain(domain)
        if is_test_domain(host, NOMATCH_DOMAIN):
            return None
        return self._organization(host)

    def reset(self) -> None:
        """Forget every alias and cached person, as a freshly started directory."""
        self._persons.clear()
        self._organizations.clear()
        self._aliases.clear()

    # -- fixtures and aliases -------------------------------------------------------------

    def _add_fixture(self, source: Mapping[str, Any]) -> None:
        record = {
            k: json_copy(v)
            for k, v in source.items()
            if k not in ("personal_emails", "phone_numbers", "hashed_email")
        }
        person_id = str(record.get("id") or "")
        country = record.get("country")
        gdpr = isinstance(country, str) and country in _GDPR_COUNTRY_NAMES
        converted = (
            _phone_record(p, str(country or ""))
            for p in source.get("phone_numbers") or ()
            if isinstance(p, Mapping)
        )
        phones = tuple(p for p in converted if p is not None)
        if not phones and person_id:
            spec = _country_by_name(country) or _COUNTRIES[0]
            rng = _rng(self.seed, "fixture-phones", person_id)
            phones = _phones(rng, spec, rng.choice(spec.cities), person_id, mobile=True)
        organization = record.get("organization")
        email = record.get("email")
        person = Person(
            record=record,
            personal_emails=tuple(str(e) for e in source.get("personal_emails") or ()),
            phone_numbers=phones,
            gdpr=gdpr,
            partial=not email or not organization,
            has_mobile=any(p.get("type_cd") == "mobile" for p in phones),
        )
        keys: list[_AliasKey] = []
        if person_id:
            keys.append(("id", person_id.lower()))
            self._fixture_ids.add(person_id.lower())
        if isinstance(email, str) and email:
            keys.append(("email", email.strip().lower()))
            keys.extend(("hash", h) for h in _email_hashes(email))
        linkedin = record.get("linkedin_url")
        if isinstance(linkedin, str) and linkedin:
            try:
                keys.append(("linkedin", normalize_linkedin_url(linkedin)))
            except InvalidParameter:
                pass
        first, last = record.get("first_name"), record.get("last_name")
        if isinstance(organization, Mapping) and isinstance(first, str) and isinstance(last, str):
            domains = {organization.get("primary_domain")}
            for name in (organization.get("name"),):
                if isinstance(name, str):
                    domains.add(domain_for_organization_name(name))
            for history in record.get("employment_history") or ():
                if isinstance(history, Mapping) and history.get("current"):
                    name = history.get("organization_name")
                    if isinstance(name, str):
                        domains.add(domain_for_organization_name(name))
            for domain in sorted(d for d in domains if isinstance(d, str) and d):
                derived = derived_email(first, last, domain.lower())
                if derived is not None:
                    keys.append(("email", derived))
            primary = organization.get("primary_domain")
            if isinstance(primary, str) and primary:
                self._fixture_orgs.setdefault(primary.lower(), organization)
        for key in keys:
            self._fixtures.setdefault(key, person)

    def _remember(self, person: Person, canonical: Identity) -> None:
        self._aliases.put(_alias_key("id", person.id), canonical, overwrite=False)
        linkedin = person.linkedin_url
        if linkedin is not None:
            self._aliases.put(_alias_key("linkedin", linkedin), canonical, overwrite=False)
        email = person.email
        if email is not None:
            for digest in _email_hashes(email):
                self._aliases.put(_alias_key("hash", digest), canonical, overwrite=False)
            if canonical != Identity("email", email):
                self._aliases.put(_alias_key("email", email), canonical, overwrite=False)

    # -- generation -----------------------------------------------------------------------

    def _organization(self, domain: str) -> dict[str, Any]:
        """A fresh copy of the full (organizations/enrich shaped) organization at `domain`; cached packed."""
        packed: bytes | None = self._organizations.get(domain)
        if packed is not None:
            organization: dict[str, Any] = loads(_PLAIN.unpack(packed))
            return organization
        fixture = self._fixture_orgs.get(domain)
        if fixture is not None:  # a fixture person's employer is that domain's organization
            organization = _enrich_shape(fixture, _rng(self.seed, "org-extra", domain))
        else:
            organization = _generate_organization(self.seed, domain, self._fixture_ids)
        raw = dumps(organization)
        # Packed, a cached organization costs about 1 KB instead of about 7.6 KB of dicts.
        self._organizations.put(domain, _PLAIN.pack(raw))
        fresh: dict[str, Any] = loads(raw)  # the round trip a cached one takes
        return fresh

    def _generate(self, identity: Identity) -> Person:
        return _generate_person(self, identity)

    def _packer(self) -> Packer:
        """The packer of generated persons: a dictionary of a few made-up persons' records."""
        if self._generated_packer is None:
            self._generated_packer = _PLAIN  # the samples themselves are packed plainly
            samples = (
                _generate_person(self, Identity("email", f"sample.person{i}@sample-company{i}.example"))
                for i in range(_DICTIONARY_SAMPLES)
            )
            self._generated_packer = Packer(b"".join(sample.json() for sample in samples))
        return self._generated_packer


def _country_by_name(name: object) -> _Country | None:
    for country in _COUNTRIES:
        if country.name == name:
            return country
    return None


def _fresh_id(digest: bytes, taken: set[str]) -> str:
    candidate = _object_id(digest)
    while candidate in taken:
        digest = hashlib.sha256(digest).digest()
        candidate = _object_id(digest)
    return candidate


def _enrich_shape(nested: Mapping[str, Any], rng: random.Random) -> dict[str, Any]:
    """organizations/enrich's organization from a person's nested one (adds the count keys)."""
    out: dict[str, Any] = {}
    for key, value in nested.items():
        out[key] = json_copy(value)
        if key == "languages" and "num_languages" not in nested:
            out["num_languages"] = len(value) if isinstance(value, list) else 0
        if key == "retail_location_count" and "num_retail_locations" not in nested:
            out["num_retail_locations"] = value
    if "departmental_head_count" not in out:
        employees = nested.get("estimated_num_employees")
        out["departmental_head_count"] = _head_counts(rng, employees if isinstance(employees, int) else 0)
    for key in (
        "organization_headcount_six_month_growth",
        "organization_headcount_twelve_month_growth",
        "organization_headcount_twenty_four_month_growth",
    ):
        out.setdefault(key, None)
    return out


def _head_counts(rng: random.Random, employees: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    remaining = max(employees, 0)
    for key in _DEPARTMENT_HEAD_COUNT_KEYS:
        if remaining <= 0:
            break
        share = int(employees * rng.uniform(0.0, 0.25))
        share = min(share, remaining)
        if share > 0:
            counts[key] = share
            remaining -= share
    return counts


def _generate_organization(seed: int, domain: str, taken_ids: set[str]) -> dict[str, Any]:
    """A complete organization for `domain`, a pure function of (seed, domain)."""
    digest = _digest(seed, "org", domain)
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    country = _country_for_domain(domain, rng)
    city = rng.choice(country.cities)
    pools = _pools(country.locale)
    industry = rng.choices(_INDUSTRIES, _INDUSTRY_WEIGHTS)[0]
    name = _organization_name(domain)
    slug = ascii_fold(domain.split(".")[0]) or "company"
    employees = int(round(10 ** rng.uniform(0.8, 4.6)))
    founded = rng.randint(1965, 2022) if employees > 500 else rng.randint(1995, 2023)
    revenue = employees * rng.randint(60, 320) * 1000
    revenue = int(round(revenue, -len(str(revenue)) + 3))
    street = rng.choice(pools.streets)
    keywords = rng.sample(industry.keywords, k=rng.randint(3, min(8, len(industry.keywords))))
    techs = sorted(rng.sample(_TECH_RECORDS, k=rng.randint(4, 18)), key=lambda t: t["name"])
    org_id = _fresh_id(digest, taken_ids)
    funding_events: list[dict[str, Any]] = []
    if employees < 5000 and rng.random() < 0.45:
        year = max(founded, 2008) + rng.randint(0, 3)
        month = rng.randint(1, 12)
        max_stages = 1 + min(len(str(employees)), len(_FUNDING_STAGES) - 1)
        stage_count = rng.randint(1, max_stages)
        amount_m = rng.choice((0.5, 1.0, 1.5, 2.0, 3.0))
        for stage in _FUNDING_STAGES[:stage_count]:
            if year > 2024:
                break
            event_digest = _digest(seed, "funding", domain, stage)
            funding_events.append(
                {
                    "id": _object_id(event_digest),
                    "date": f"{_month(year, month)}T00:00:00.000+00:00",
                    "news_url": None,
                    "type": stage,
                    "investors": ", ".join(rng.sample(_INVESTORS, k=rng.randint(1, 4))),
                    "amount": _printed(amount_m * 1e6),
                    "currency": "$",
                }
            )
            year, month = year + rng.randint(1, 3), rng.randint(1, 12)
            amount_m = round(amount_m * rng.uniform(2.0, 4.5), 1)
        funding_events.reverse()  # newest first, like Apollo's example
    total_funding: int | None = None
    if funding_events:
        total_funding = int(sum(_parse_printed(str(event["amount"])) for event in funding_events))
    tag_id = _digest("industry-tag", industry.name)[:12].hex()
    postal = city.postal_code
    raw_address = f"{street}, {city.name}, {city.state} {postal}, {country.code}"
    twitter = f"https://twitter.com/{slug}" if rng.random() < 0.6 else None
    facebook = f"https://www.facebook.com/{slug}" if rng.random() < 0.5 else None
    root_people = [_object_id(_digest(seed, "org-root", domain))] if employees > 50 else []
    description = (
        f"{name} is {'an' if industry.name[0] in 'aeiou' else 'a'} {industry.name} company "
        f"based in {city.name}, {country.name}, "
        f"working on {', '.join(keywords[:3])}."
    )
    organization: dict[str, Any] = {
        "id": org_id,
        "name": name,
        "website_url": f"http://www.{domain}",
        "blog_url": None,
        "angellist_url": None,
        "linkedin_url": f"http://www.linkedin.com/company/{slug}",
        "twitter_url": twitter,
        "facebook_url": facebook,
        "primary_phone": {},
        "languages": [],
        "num_languages": 0,
        "alexa_ranking": rng.randint(5_000, 2_000_000) if rng.random() < 0.4 else None,
        "phone": None,
        "linkedin_uid": str(rng.randint(10_000, 99_999_999)),
        "founded_year": founded,
        "publicly_traded_symbol": None,
        "publicly_traded_exchange": None,
        "logo_url": (
            "https://zenprospect-production.s3.amazonaws.com/uploads/pictures/"
            f"{_object_id(_digest(seed, 'logo', domain))}/picture"
        ),
        "crunchbase_url": None,
        "primary_domain": domain,
        "industry": industry.name,
        "keywords": keywords,
        "estimated_num_employees": employees,
        "industries": [industry.name],
        "secondary_industries": [],
        "snippets_loaded": True,
        "industry_tag_id": tag_id,
        "industry_tag_hash": {industry.name: tag_id},
        "retail_location_count": 0,
        "num_retail_locations": 0,
        "raw_address": raw_address,
        "street_address": street,
        "city": city.name,
        "state": city.state,
        "postal_code": postal,
        "country": country.name,
        "owned_by_organization_id": None,
        "seo_description": description,
        "short_description": description,
        "suborganizations": [],
        "num_suborganizations": 0,
        "annual_revenue_printed": _printed(revenue),
        "annual_revenue": revenue,
        "total_funding": total_funding,
        "total_funding_printed": None if total_funding is None else _printed(total_funding),
        "latest_funding_round_date": funding_events[0]["date"] if funding_events else None,
        "latest_funding_stage": funding_events[0]["type"] if funding_events else None,
        "funding_events": funding_events,
        "technology_names": [t["name"] for t in techs],
        "current_technologies": [dict(t) for t in techs],
        "org_chart_root_people_ids": root_people,
        "org_chart_sector": f"OrgChart::SectorHierarchy::Rules::{industry.sector}",
        "org_chart_removed": False,
        "org_chart_show_department_filter": True,
        "departmental_head_count": _head_counts(rng, employees),
        "organization_headcount_six_month_growth": round(rng.uniform(-5, 15), 1),
        "organization_headcount_twelve_month_growth": round(rng.uniform(-10, 30), 1),
        "organization_headcount_twenty_four_month_growth": round(rng.uniform(-15, 60), 1),
    }
    return organization


def _parse_printed(text: str) -> float:
    multiplier = {"K": 1e3, "M": 1e6, "B": 1e9}.get(text[-1:], 1.0)
    number = text[:-1] if multiplier != 1.0 else text
    return float(number) * multiplier


def _nested_organization(organization: Mapping[str, Any]) -> dict[str, Any]:
    """The person's nested organization: the enrich organization without the count keys."""
    return {key: organization[key] for key in _NESTED_ORGANIZATION_KEYS if key in organization}


def _phone_number(country: _Country, city: _City, rng: random.Random, mobile: bool) -> str:
    """The national significant number (digits, no trunk prefix)."""
    if country.calling_code == "1":
        return f"{city.area_code}55501{rng.randint(0, 99):02d}"
    if country.code == "BR":
        prefix = city.area_code + ("9" if mobile else rng.choice("2345"))
        length = country.mobile_length if mobile else country.landline_length
    elif mobile:
        prefix, length = rng.choice(country.mobile_prefixes), country.mobile_length
    else:
        prefix, length = city.area_code, country.landline_length
    rest = "".join(str(rng.randint(0, 9)) for _ in range(max(length - len(prefix), 4)))
    return prefix + rest


def _raw_number(country: _Country, nsn: str, prefix_length: int) -> str:
    if country.calling_code == "1":
        return f"+1 {nsn[:3]}-{nsn[3:6]}-{nsn[6:]}"
    return f"+{country.calling_code} {nsn[:prefix_length]} {nsn[prefix_length:]}"


def _phones(
    rng: random.Random, country: _Country, city: _City, person_id: str, *, mobile: bool
) -> tuple[Mapping[str, Any], ...]:
    """Apollo phone-number objects (webhook shape, FACTS.md 4.2): a mobile and/or a work line."""
    kinds = ["mobile"] if mobile else []
    if rng.random() < 0.5 or not kinds:
        kinds.append(rng.choice(("work_direct", "work_hq", "other")))
    ids = _next_ids(_object_id(_digest(person_id, "phones")), len(kinds))
    phones = []
    for position, (kind, phone_id) in enumerate(zip(kinds, ids, strict=True)):
        is_mobile = kind == "mobile"
        nsn = _phone_number(country, city, rng, is_mobile)
        if country.calling_code == "1":
            prefix_length = 3
        elif is_mobile:
            prefix_length = next((len(p) for p in country.mobile_prefixes if nsn.startswith(p)), 2)
        else:
            prefix_length = len(city.area_code)
        year, month, day = rng.randint(2022, 2024), rng.randint(1, 12), rng.randint(1, 28)
        phones.append(
            {
                "_id": phone_id,
                "confidence_cd": rng.choice(("high", "high", "medium")),
                "created_at": None,
                "direct_dial_source_cd": rng.choice(("contact_trusted", "data_provider")),
                "dnc_other_info": {"country": country.name},
                "dnc_status_cd": "not_found",
                "dnc_status_updated_at": (
                    f"{year:04d}-{month:02d}-{day:02d}T{rng.randint(0, 23):02d}:"
                    f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}."
                    f"{rng.randint(0, 999):03d}+00:00"
                ),
                "position": position,
                "raw_number": _raw_number(country, nsn, prefix_length),
                "sanitized_number": f"+{country.calling_code}{nsn}",
                "status_cd": "valid_number",
                "type_cd": kind,
                "updated_at": None,
                "id": phone_id,
                "key": phone_id,
            }
        )
    return tuple(phones)


def _phone_record(phone: Mapping[str, Any], country: str) -> Mapping[str, Any] | None:
    """A fixture's phone in Apollo's webhook shape (legacy `type`/`status` keys mapped)."""
    if "type_cd" in phone:
        return phone
    sanitized = phone.get("sanitized_number")
    if not isinstance(sanitized, str) or not sanitized:
        return None
    phone_id = str(phone.get("id") or phone.get("_id") or "") or _object_id(_digest("phone", sanitized))
    return {
        "_id": phone_id,
        "confidence_cd": "high",
        "created_at": None,
        "direct_dial_source_cd": "contact_trusted",
        "dnc_other_info": {"country": country} if country else None,
        "dnc_status_cd": phone.get("dnc_status") or "not_found",
        "dnc_status_updated_at": None,
        "position": phone.get("position", 0),
        "raw_number": phone.get("raw_number"),
        "sanitized_number": sanitized,
        "status_cd": phone.get("status") or "valid_number",
        "type_cd": phone.get("type") or "other",
        "updated_at": None,
        "id": phone_id,
        "key": phone_id,
    }


def _names_from_parts(parts: Sequence[str], pools: _Pools) -> tuple[str, str] | None:
    words = [p for p in parts if p]
    if len(words) >= 2 and all(w.isalpha() and w.isascii() for w in (words[0], words[1])):
        first, last = words[0].lower(), words[1].lower()
        if 2 <= len(first) <= 20 and 2 <= len(last) <= 20:
            return (
                pools.first_by_fold.get(first, first.capitalize()),
                pools.last_by_fold.get(last, last.capitalize()),
            )
    return None


def _choose_names(identity: Identity, country: _Country, rng: random.Random) -> tuple[str, str]:
    pools = _pools(country.locale)
    fallback_first = rng.choice(pools.first_names)
    fallback_last = rng.choice(pools.last_names)
    if identity.kind == "email":
        local = identity.value.partition("@")[0]
        parts = _NAME_SEPARATORS.split(local)
        names = _names_from_parts(parts, pools)
        if names is not None:
            return names
        if len(parts) == 1 and parts[0] in pools.first_by_fold:
            return pools.first_by_fold[parts[0]], fallback_last
    elif identity.kind == "linkedin":
        slug = identity.value.rsplit("/", 1)[-1]
        names = _names_from_parts(slug.split("-"), pools)
        if names is not None:
            return names
    elif identity.kind == "name":
        first, _, last = identity.value.rpartition("@")[0].partition(" ")
        return first, last
    return fallback_first, fallback_last


def _generate_person(directory: PersonDirectory, identity: Identity) -> Person:
    """A complete person for `identity`, a pure function of (seed, identity)."""
    seed = directory.seed
    digest = _digest(seed, identity.kind, identity.value)
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    partial = rng.random() < PARTIAL_SHARE or identity.is_partial

    # The employer: the email's domain, else a company picked in the person's locale.
    work_domain: str | None = None
    if identity.kind == "email":
        email_domain = identity.value.rpartition("@")[2]
        if email_domain not in _FREE_MAIL_DOMAINS:
            work_domain = email_domain
    elif identity.kind == "name":
        work_domain = identity.value.rpartition("@")[2]
    if work_domain is None:
        home = rng.choice(_EU_COUNTRIES) if identity.is_eu else rng.choices(_COUNTRIES, _COUNTRY_WEIGHTS)[0]
        company = rng.choice(_pools(home.locale).companies)
        work_domain = _company_domain(company, home, rng)
    organization = directory._organization(work_domain)
    org_country = _country_by_name(organization["country"]) or _COUNTRIES[0]

    if identity.is_eu:
        country = org_country if org_country.eu else rng.choice(_EU_COUNTRIES)
    elif rng.random() < 0.85:
        country = org_country
    else:
        country = rng.choices(_COUNTRIES, _COUNTRY_WEIGHTS)[0]
    city = (
        next((c for c in country.cities if c.name == organization["city"]), None)
        if country is org_country and rng.random() < 0.7
        else None
    ) or rng.choice(country.cities)

    first_name, last_name = _choose_names(identity, country, rng)
    person_id = _fresh_id(digest, directory._fixture_ids)
    folded_first, folded_last = ascii_fold(first_name), ascii_fold(last_name)

    if identity.kind == "email":
        email: str | None = identity.value
    elif partial or identity.kind == "name":
        email = None
    else:
        email = derived_email(first_name, last_name, work_domain)
    email_status = "unavailable" if email is None else ("verified" if rng.random() < 0.9 else "unverified")
    if identity.kind == "linkedin":
        linkedin: str | None = identity.value
    elif partial and rng.random() < 0.5:
        linkedin = None
    else:
        handle = "-".join(p for p in (folded_first, folded_last) if p) or "member"
        linkedin = f"http://www.linkedin.com/in/{handle}-{digest[20:24].hex()}"

    _, track = rng.choices(_TRACKS, _TRACK_WEIGHTS)[0]
    role = rng.choices(track, [r.weight for r in track])[0]
    handle = f"{folded_first}{folded_last}"[:15] or "user"
    engineer = "engineering" in role.functions or "data_science" in role.functions

    history: list[dict[str, Any]] = []
    if not partial:
        history = _employment_history(seed, rng, person_id, organization, role, track, country)

    personal: tuple[str, ...] = ()
    phones: tuple[Mapping[str, Any], ...] = ()
    has_mobile = False
    if identity.kind == "email" and work_domain != identity.value.rpartition("@")[2]:
        personal = (identity.value,)
    if not partial:
        if rng.random() < PERSONAL_EMAIL_SHARE and folded_first and folded_last:
            suffix = str(rng.randint(1, 99)) if rng.random() < 0.5 else ""
            address = f"{folded_first}.{folded_last}{suffix}@{rng.choice(country.free_mail)}"
            if address not in personal:
                personal = (*personal, address)
        has_mobile = rng.random() < MOBILE_SHARE
        phones = _phones(rng, country, city, person_id, mobile=has_mobile)

    photo = (
        "https://static.licdn.com/aero-v1/sc/h/" + "".join(rng.choice(_PHOTO_CHARS) for _ in range(25))
        if not partial and rng.random() < 0.7
        else None
    )
    twitter = f"https://twitter.com/{handle}" if not partial and rng.random() < 0.15 else None
    github = f"https://github.com/{handle}" if not partial and engineer and rng.random() < 0.35 else None
    facebook = f"https://www.facebook.com/{handle}" if not partial and rng.random() < 0.05 else None

    record: dict[str, Any] = dict.fromkeys(_PERSON_KEYS)
    record.update(
        id=person_id,
        first_name=first_name,
        last_name=last_name,
        name=f"{first_name} {last_name}".strip(),
        linkedin_url=linkedin,
        title=None if partial else role.title,
        email_status=email_status,
        photo_url=photo,
        twitter_url=twitter,
        github_url=github,
        facebook_url=facebook,
        extrapolated_email_confidence=None,
        headline=None if partial else f"{role.title} at {organization['name']}",
        email=email,
        organization_id=None if partial else organization["id"],
        employment_history=history,
        state=None if partial else city.state,
        city=None if partial else city.name,
        country=country.name,
        contact_id=None,
        contact=None,
        revealed_for_current_team=True,
        organization=None if partial else _nested_organization(organization),
        is_likely_to_engage=rng.random() < 0.3,
        intent_strength=None,
        show_intent=False,
        departments=[] if partial else list(role.departments),
        subdepartments=[] if partial else list(role.subdepartments),
        functions=[] if partial else list(role.functions),
        seniority=None if partial else role.seniority,
    )
    return Person(
        record=record,
        personal_emails=personal,
        phone_numbers=phones,
        gdpr=country.gdpr,
        partial=partial,
        has_mobile=has_mobile,
        packer=directory._packer(),
    )


def _employment_history(
    seed: int,
    rng: random.Random,
    person_id: str,
    organization: Mapping[str, Any],
    role: _Role,
    track: Sequence[_Role],
    country: _Country,
) -> list[dict[str, Any]]:
    """Current job at `organization`, then earlier jobs, each ending before the next starts."""
    pools = _pools(country.locale)
    earlier = rng.randint(0, 4)
    ids = _next_ids(_object_id(_digest(person_id, "employment")), earlier + 1)
    founded = organization.get("founded_year")
    start_year = rng.randint(max(2012, founded if isinstance(founded, int) else 2012), 2024)
    start_month = rng.randint(1, 12)
    jobs = [
        _job(
            ids[0],
            True,
            None,
            _month(start_year, start_month),
            organization["id"],
            organization["name"],
            role.title,
        )
    ]
    end_year, end_month = start_year, start_month
    juniors = [r for r in track if r.level <= role.level] or list(track)
    for index in range(earlier):
        gap = rng.randint(0, 4)
        end_year, end_month = _months_before(end_year, end_month, gap)
        if end_year < 1990:
            break
        length = rng.randint(8, 48)
        begin_year, begin_month = _months_before(end_year, end_month, length)
        employer = rng.choice(_WELL_KNOWN_EMPLOYERS if rng.random() < 0.3 else pools.companies)
        employer_id = _object_id(_digest(seed, "employer", employer)) if rng.random() < 0.8 else None
        previous_role = rng.choice(juniors)
        jobs.append(
            _job(
                ids[index + 1],
                False,
                _month(end_year, end_month),
                _month(begin_year, begin_month),
                employer_id,
                employer,
                previous_role.title,
            )
        )
        juniors = [r for r in juniors if r.level <= previous_role.level] or juniors
        end_year, end_month = begin_year, begin_month
    return jobs


def _job(
    job_id: str,
    current: bool,
    end_date: str | None,
    start_date: str,
    organization_id: str | None,
    organization_name: str,
    title: str,
) -> dict[str, Any]:
    return {
        "_id": job_id,
        "created_at": None,
        "current": current,
        "degree": None,
        "description": None,
        "emails": None,
        "end_date": end_date,
        "grade_level": None,
        "kind": None,
        "major": None,
        "organization_id": organization_id,
        "organization_name": organization_name,
        "raw_address": None,
        "start_date": start_date,
        "title": title,
        "updated_at": None,
        "id": job_id,
        "key": job_id,
    }


__all__ = [
    "ALIAS_INDEX_SIZE",
    "MOBILE_SHARE",
    "NOMATCH_DOMAIN",
    "PARTIAL_DOMAIN",
    "PARTIAL_SHARE",
    "PERSONAL_EMAIL_SHARE",
    "Person",
    "PersonDirectory",
    "encoded",
    "render",
]
