"""Fake people: names, ethnicity, dates of birth, postcodes, addresses and workers.

Every name is drawn from short lists of common words and put together at random; postcodes
are well-formed but made up. Nothing is copied from real records.
"""

from __future__ import annotations

from .draws import Draws, Weighted

FORENAMES_F = [
    "Amelia",
    "Ava",
    "Olivia",
    "Isla",
    "Emily",
    "Poppy",
    "Ella",
    "Lily",
    "Freya",
    "Grace",
    "Sophie",
    "Evie",
    "Ruby",
    "Daisy",
    "Chloe",
    "Jessica",
    "Mia",
    "Holly",
    "Millie",
    "Layla",
    "Aisha",
    "Zara",
    "Maya",
    "Amber",
    "Esme",
    "Harriet",
    "Imogen",
    "Leah",
    "Megan",
    "Nia",
]
FORENAMES_M = [
    "Oliver",
    "Jack",
    "Harry",
    "George",
    "Noah",
    "Charlie",
    "Jacob",
    "Alfie",
    "Freddie",
    "Oscar",
    "Leo",
    "Logan",
    "Archie",
    "Theo",
    "Thomas",
    "James",
    "Joshua",
    "William",
    "Ethan",
    "Mohammed",
    "Riley",
    "Kai",
    "Finley",
    "Adam",
    "Dylan",
    "Lewis",
    "Ryan",
    "Owen",
]
SURNAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "Robinson",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Khan",
    "Hughes",
    "Edwards",
    "Hill",
    "Moore",
    "Turner",
    "Cooper",
    "Ward",
    "Morris",
    "King",
    "Baker",
    "Harris",
    "Lewis",
    "Martin",
    "Allen",
    "Young",
    "Scott",
    "Mitchell",
    "Carter",
    "Phillips",
    "Bell",
    "Kelly",
    "Shaw",
    "Lee",
    "Begum",
    "Ali",
    "Hussain",
    "Ahmed",
    "Murphy",
    "Price",
    "Bennett",
    "Gray",
]
STREETS = [
    "Acacia Avenue",
    "Mill Lane",
    "Church Street",
    "Station Road",
    "Park View",
    "Orchard Close",
    "Victoria Road",
    "Chapel Street",
    "Meadow Way",
    "Queens Road",
    "Elm Grove",
    "High Street",
    "Willow Drive",
    "Canal Side",
]
TOWNS = ("Northbridge", "Eastmoor", "Westfield", "Southdale", "Kingsford", "Ashby Vale")
#: made-up outward codes: valid UK postcode shape, not tied to any real place
POSTCODE_AREAS = ("NB", "EM", "WF", "SD", "KF", "AV")
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

ETHNICITY = Weighted(
    {
        "WBRI": 68,
        "WIRI": 1,
        "WOTH": 5,
        "WIRT": 0.5,
        "WROM": 0.8,
        "MWBC": 3,
        "MWBA": 1.2,
        "MWAS": 1.5,
        "MOTH": 3.5,
        "AIND": 1.2,
        "APKN": 2.2,
        "ABAN": 0.9,
        "AOTH": 1.5,
        "BCRB": 1.4,
        "BAFR": 3,
        "BOTH": 1,
        "CHNE": 0.2,
        "OOTH": 2.5,
        "REFU": 0.5,
        "NOBT": 1.1,
    }
)
SEX = Weighted({"M": 51, "F": 48.6, "U": 0.4})


def fake_name(d: Draws, sex: str) -> tuple[str, str]:
    first = d.pick(FORENAMES_F if sex == "F" else FORENAMES_M if sex == "M" else FORENAMES_F)
    return first, d.pick(SURNAMES)


def fake_postcode(d: Draws) -> str:
    area = d.pick(POSTCODE_AREAS)
    return (
        f"{area}{d.randint(1, 29)} {d.randint(1, 9)}"
        f"{d.pick(_INWARD_LETTERS)}{d.pick(_INWARD_LETTERS)}"
    )


def fake_address_json(d: Draws, postcode: str) -> str:
    return (
        f'{{"line1": "{d.randint(1, 240)} {d.pick(STREETS)}", '
        f'"town": "{d.pick(TOWNS)}", "postcode": "{postcode}"}}'
    )


def fake_nhs_number(child: int) -> str:
    """From the 999 range the NHS reserves for test data, unique per child."""
    return f"999{child:07d}"


# --- workers ---------------------------------------------------------------------------

DEPARTMENTS = (
    "Front Door",
    "Assessment",
    "Children in Need",
    "Child Protection",
    "Children in Care",
    "Early Help",
)
TEAMS = {
    "front": "Assessment Team",
    "cin": "Children in Need Team",
    "cp": "Child Protection Team",
    "cla": "Children in Care Team",
    "eh": "Early Help Team",
}
EH_ORGANISATIONS = (
    "Family Hub North",
    "Family Hub South",
    "Family Hub Central",
    "School Family Support",
    "Voluntary Sector Partner",
)


def professional_id(n: int) -> str:
    return f"W{n:05d}"


def professional_count(children: int) -> int:
    """About one worker per 12 children, at least 12 (a handful of managers among them)."""
    return max(12, children // 12)


def is_manager(n: int) -> bool:
    return n % 8 == 1


def professional_rows(children: int, seed: int, agency_share: float) -> list[dict]:
    d = Draws(seed, 0, 99)
    rows = []
    for n in range(1, professional_count(children) + 1):
        if is_manager(n):
            title = "Team Manager"
        else:
            title = d.pick(
                (
                    "Social Worker",
                    "Social Worker",
                    "Senior Social Worker",
                    "Advanced Practitioner",
                    "Early Help Practitioner",
                )
            )
        rows.append(
            {
                "prof_professional_id": professional_id(n),
                "prof_social_worker_registration_no": f"SW{100000 + (n * 7919) % 899999}",
                "prof_professional_job_title": title,
                "prof_professional_department": d.pick(DEPARTMENTS),
                "prof_agency_worker_flag": "Y"
                if d.chance(agency_share) and not is_manager(n)
                else "N",
            }
        )
    return rows
