"""Fake people: names, ethnicity, dates of birth, postcodes and addresses (workers and
teams: ``teams.py``).

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
