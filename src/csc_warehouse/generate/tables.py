"""How each table's rows are cut at the drop date.

A row is written when its start is on or before the drop date. When its end is after the
drop date the span is still open that night: the end and the values only known at the end
(close reason, authorisation, change reason ...) are written blank.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Cut:
    start: str
    end: str | None = None
    #: columns blank while the span is open
    at_end: tuple[str, ...] = ()
    #: values known only from a later day: (day field, columns blank before that day);
    #: the day field may be a contract date column (blank itself) or a hidden ``_`` field
    later: tuple[tuple[str, tuple[str, ...]], ...] = ()


CUTS: dict[str, Cut] = {
    "ssd_person": Cut("_start"),
    "ssd_address": Cut("addr_address_start_date", "addr_address_end_date"),
    "ssd_contacts": Cut("cont_contact_date"),
    "ssd_early_help_episodes": Cut(
        "earl_episode_start_date", "earl_episode_end_date", ("earl_episode_end_reason",)
    ),
    "ssd_cin_episodes": Cut(
        "cine_referral_date",
        "cine_close_date",
        ("cine_close_reason", "ext_close_authorised_by", "ext_close_authorised_date"),
    ),
    "ssd_cin_assessments": Cut(
        "cina_assessment_start_date",
        "cina_assessment_auth_date",
        ("cina_assessment_outcome_json", "cina_assessment_outcome_nfa"),
    ),
    "ssd_cin_plans": Cut("cinp_cin_plan_start_date", "cinp_cin_plan_end_date"),
    "ssd_s47_enquiry": Cut(
        "s47e_s47_start_date", "s47e_s47_end_date", ("s47e_s47_nfa", "s47e_s47_outcome_json")
    ),
    "ssd_initial_cp_conference": Cut("icpc_icpc_date"),
    "ssd_cp_plans": Cut("cppl_cp_plan_start_date", "cppl_cp_plan_end_date"),
    "ssd_cla_episodes": Cut(
        "clae_cla_episode_start_date",
        "clae_cla_episode_ceased_date",
        ("clae_cla_episode_ceased_reason", "clae_cla_last_iro_contact_date"),
    ),
    "ssd_cla_placement": Cut(
        "clap_cla_placement_start_date",
        "clap_cla_placement_end_date",
        ("clap_cla_placement_change_reason",),
    ),
    "ssd_legal_status": Cut("lega_legal_status_start_date", "lega_legal_status_end_date"),
    "ssd_cla_reviews": Cut("clar_cla_review_date"),
    "ssd_missing": Cut(
        "miss_missing_episode_start_date",
        "miss_missing_episode_end_date",
        ("miss_missing_rhi_offered", "miss_missing_rhi_accepted"),
    ),
    "ssd_involvements": Cut(
        "invo_involvement_start_date", "invo_involvement_end_date", ("invo_worker_change_reason",)
    ),
    "ssd_professionals": Cut(""),
    "ext_plan_actions": Cut("action_recorded_date"),
    "ext_camhs_referrals": Cut(
        "camh_referral_date",
        "camh_closed_date",
        ("camh_outcome",),
        later=(
            ("_decided", ("camh_accepted",)),
            ("camh_first_appointment_date", ("camh_first_appointment_date",)),
        ),
    ),
}
