"""Actions in a child's plan (the local ext_plan_actions table), with or without timescales."""

from __future__ import annotations

from .draws import Draws
from .history import History, SimContext

ACTION_TEXT = {
    "CIN": (
        "Attend parenting programme",
        "Improve school attendance to 95%",
        "Engage with substance misuse service",
        "Register with GP and dentist",
        "Keep home conditions safe and clean",
    ),
    "CP": (
        "Agree and follow the safety plan",
        "Attend all core group meetings",
        "Child seen weekly by the social worker",
        "Engage with domestic abuse support",
        "Complete a parenting assessment",
    ),
    "CLA": (
        "Complete the initial health assessment",
        "Update the personal education plan",
        "Arrange family time as agreed",
        "Life story work with the child",
        "Identify a long-term placement",
    ),
}


def plan_actions(
    h: History, d: Draws, ctx: SimContext, plan_type: str, plan_id: str, start: int, end: int
) -> None:
    r = ctx.rates
    if d.chance(r.plan_without_actions):
        return
    texts = ACTION_TEXT[plan_type]
    for _ in range(d.randint(1, 5)):
        rec = start + d.randint(0, min(21, max(0, end - start - 1)))
        h.add(
            "ext_plan_actions",
            {
                "action_id": h.next_id("ACT"),
                "person_id": h.pid,
                "plan_type": plan_type,
                "plan_id": plan_id,
                "action_recorded_date": rec,
                "target_date": None
                if d.chance(r.action_without_target)
                else rec + d.randint(28, 180),
                "outcome_agreed": "Y" if d.chance(0.7) else "N",
                "action_text": d.pick(texts),
            },
        )
