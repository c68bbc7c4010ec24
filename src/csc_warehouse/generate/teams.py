"""Teams and workers of the synthetic authority (measures.md section 11, issue 12).

Eight fictional allocating teams, each a number of *posts* (social worker posts, plus one
team manager post). Every post is held by a chain of workers over time: a worker joins,
stays a few years (agency workers less), leaves, and the next holder starts the day after.
A case is allocated to a post of the team that holds its stage (assessment, CIN, CP,
children in care, leaving care, early help), and its worker is whoever holds that post on
the day; when that worker leaves, the case changes worker (reason LEFTRL), sometimes after
an unallocated gap.

Posts per team are sized from the children arriving per year so that the average open
caseload of a social worker on the drop date is about 15-20 children. The posts and their
holders are the same for every child (drawn from the seed alone, never from a child's
draws), so children can still be simulated independently, in any order or process.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

from .calendar import add_years
from .draws import Draws, Weighted


@dataclass(frozen=True)
class Team:
    #: short code used in worker ids
    code: str
    #: the team name written to the extract (invo_professional_team, cine_referral_team ...)
    name: str
    #: what the team does: assessment, cin, disabled, cp, cla, leaving_care, early_help, iro
    kind: str
    #: social worker posts per 1,000 children arriving per year (sizes caseloads ~15-20)
    posts_per_1000_arrivals: float
    department: str


TEAMS: tuple[Team, ...] = (
    Team("AN", "Northbridge Assessment Team", "assessment", 5.6, "Front Door and Assessment"),
    Team("AS", "Southdale Assessment Team", "assessment", 5.6, "Front Door and Assessment"),
    Team("CN", "Kingsford Children in Need Team", "cin", 20.0, "Children in Need"),
    Team("DC", "Disabled Children's Team", "disabled", 2.0, "Children in Need"),
    Team("CP", "Eastmoor Child Protection Team", "cp", 8.0, "Child Protection"),
    Team("CC", "Westfield Children in Care Team", "cla", 6.0, "Children in Care"),
    Team("LC", "Ashby Vale Leaving Care Team", "leaving_care", 1.0, "Children in Care"),
    Team("EH", "Early Help Family Hub", "early_help", 9.8, "Early Help"),
)
#: not an allocating team: independent reviewing officers (role IRO, not the allocated
#: social worker), so a model that wants the allocated worker must filter on the role
IRO_TEAM = Team("IR", "Independent Reviewing Service", "iro", 2.5, "Quality Assurance")
ALL_TEAMS: tuple[Team, ...] = (*TEAMS, IRO_TEAM)
TEAM_BY_CODE = {t.code: t for t in ALL_TEAMS}

#: invo_professional_role_id of the allocated social worker (the role measures.md section
#: 11 means) and of the independent reviewing officer
ROLE_ALLOCATED = "Allocated social worker"
ROLE_IRO = "Independent reviewing officer"

#: the stage of a case -> the team code that holds it (front door by locality)
STAGE_TEAM = {
    "front_n": "AN",
    "front_s": "AS",
    "cin": "CN",
    "disabled": "DC",
    "cp": "CP",
    "cla": "CC",
    "lc": "LC",
    "eh": "EH",
    "iro": "IR",
}

JOB_TITLE = Weighted(
    {"Social Worker": 55, "Senior Social Worker": 25, "Advanced Practitioner": 10,
     "Newly Qualified Social Worker": 10}
)
EH_TITLE = Weighted({"Early Help Practitioner": 80, "Family Support Worker": 20})


@dataclass(frozen=True)
class Post:
    team: str
    #: (start day, end day, worker id, agency) of each holder, in order, no gaps
    holders: tuple[tuple[int, int, str, bool], ...]
    starts: tuple[int, ...]

    def holder(self, day: int) -> tuple[str, int]:
        """The worker holding the post on ``day`` and the day they leave."""
        i = max(0, bisect_right(self.starts, day) - 1)
        _s, e, wid, _a = self.holders[i]
        return wid, e


@dataclass(frozen=True)
class Workforce:
    #: team code -> its social worker posts
    posts: dict[str, tuple[Post, ...]]
    #: team code -> its manager post
    managers: dict[str, Post]
    #: workers who left before this day are not listed in ssd_professionals
    listed_from: int

    def allocate(self, d: Draws, team: str, day: int) -> tuple[str, int]:
        """A worker of ``team`` on ``day`` (a post at random) and the day they leave."""
        posts = self.posts[team]
        return posts[int(d.u() * len(posts))].holder(day)

    def manager(self, team: str, day: int) -> str:
        return self.managers[team].holder(day)[0]

    def professionals(self, stop: int) -> list[dict]:
        """ssd_professionals: every worker who had joined by ``stop``, in a fixed order."""
        rows = []
        for team in ALL_TEAMS:
            for post in (*self.posts[team.code], self.managers[team.code]):
                is_manager = post is self.managers[team.code]
                for k, (s, e, wid, agency) in enumerate(post.holders):
                    if s > stop:
                        break
                    if e < self.listed_from:
                        continue
                    d = Draws(hash_id(wid), 0, 98)
                    if is_manager:
                        title = "Team Manager"
                    elif team.kind == "early_help":
                        title = EH_TITLE.pick(d)
                    elif team.kind == "iro":
                        title = "Independent Reviewing Officer"
                    else:
                        title = JOB_TITLE.pick(d)
                    rows.append(
                        {
                            "prof_professional_id": wid,
                            "prof_social_worker_registration_no": ""
                            if team.kind == "early_help"
                            else f"SW{100000 + (hash_id(wid) + k) % 899999}",
                            "prof_professional_job_title": title,
                            "prof_professional_department": team.name,
                            "prof_agency_worker_flag": "Y" if agency else "N",
                        }
                    )
        return rows


def hash_id(text: str) -> int:
    """A stable small integer from a worker id (Python's hash() is salted per process)."""
    h = 0
    for ch in text:
        h = (h * 131 + ord(ch)) % 1_000_003
    return h


def build_workforce(
    seed: int,
    children: int,
    years: int,
    window_start: int,
    horizon: int,
    agency_share: float,
    tenure_years: float,
    agency_tenure_years: float,
) -> Workforce:
    """Posts and their holders from ``window_start`` - 3 years to ``horizon``."""
    arrivals_per_year = children / max(1, years)
    posts: dict[str, tuple[Post, ...]] = {}
    managers: dict[str, Post] = {}
    first = add_years(window_start, -3)
    for ti, team in enumerate(ALL_TEAMS):
        n = max(2, math.ceil(arrivals_per_year / 1000.0 * team.posts_per_1000_arrivals))
        d = Draws(seed, 0, 200 + ti)
        team_posts = []
        for p in range(n + 1):  # post 0 is the team manager's
            holders = []
            s = first - d.randint(0, 5 * 365)
            k = 0
            while s <= horizon:
                agency = p > 0 and d.chance(agency_share)
                mean = (agency_tenure_years if agency else tenure_years) * 365.0
                if p == 0:
                    mean *= 1.5  # managers stay longer
                e = s + 60 + int(d.exponential(mean))
                k += 1
                holders.append((s, e, f"W{team.code}{p:03d}{k:02d}", agency))
                s = e
            post = Post(team.code, tuple(holders), tuple(h[0] for h in holders))
            if p == 0:
                managers[team.code] = post
            else:
                team_posts.append(post)
        posts[team.code] = tuple(team_posts)
    return Workforce(posts, managers, window_start)
