"""Who may do what, cell by cell. The matrix below is the specification, written out by hand;
the table in ``domain/authorization.py`` must match it exactly."""

from __future__ import annotations

import pytest

from domain.authorization import (
    DEPLOYMENT,
    Actor,
    Command,
    Grant,
    NotAuthorised,
    Role,
    authorise,
    check_independence,
)

ROLES = [
    "medewerker",
    "CISO",
    "privacybeheerder",
    "FG",
    "secretaris",
    "proceseigenaar",
    "auditor",
    "koppeling",
    "installatie",
]
ROLE = dict(zip(ROLES, Role, strict=True))

#                                 mdw  CISO  PB   FG   GS   PE   aud  kop  inst
MATRIX = """
register_processing_activity      .    .     x    .    .    x    .    .    .
amend_processing_activity         .    .     x    .    .    x    .    .    .
retire_processing_activity        .    .     x    .    .    x    .    .    .
report_incident                   x    x     x    x    x    x    .    .    .
triage_incident                   .    x     .    .    .    .    .    .    .
classify_not_a_breach             .    x     x    .    .    .    .    .    .
establish_breach                  .    x     x    .    .    .    .    .    .
record_measure                    .    x     x    .    .    .    .    .    .
decide_notification               .    .     .    .    x    .    .    .    .
submit_ap_notification            .    .     x    .    .    .    .    .    .
supplement_ap_notification        .    .     x    .    .    .    .    .    .
withdraw_ap_notification          .    .     x    .    .    .    .    .    .
reclassify_not_a_breach           .    x     x    .    .    .    .    .    .
inform_subjects                   .    .     x    .    .    .    .    .    .
close_incident                    .    x     .    .    .    .    .    .    .
evaluate_incident                 .    x     .    .    .    .    .    .    .
request_fg_advice                 .    x     x    .    x    x    .    .    .
give_fg_advice                    .    .     .    x    .    .    .    .    .
answer_fg_advice                  .    .     .    .    x    x    .    .    .
escalate_fg_advice                .    .     .    x    .    .    .    .    .
receive_request                   .    .     x    .    .    .    .    x    .
handle_request                    .    .     x    .    .    .    .    .    .
decide_request                    .    .     .    .    x    x    .    .    .
lodge_objection                   .    .     x    .    .    .    .    .    .
decide_on_objection               .    .     .    .    x    .    .    .    .
erase_personal_data               .    .     x    .    .    .    .    .    .
read_registers                    .    x     x    x    x    x    x    .    x
verify_ledger                     .    x     x    x    .    .    x    .    x
read_ledger_states                .    .     .    .    .    .    .    .    x
register_processor                .    .     x    .    .    x    .    .    .
manage_processor_agreement        .    .     x    .    .    x    .    .    .
record_processor_notice           .    x     x    .    .    .    .    .    .
find_significant_incident         .    x     .    .    .    .    .    .    .
send_early_warning                .    x     .    .    .    .    .    .    .
inform_fg                         .    x     .    .    .    .    .    .    .
convene_irt                       .    x     .    .    .    .    .    .    .
assess_incident                   .    x     .    .    .    .    .    .    .
file_aangifte                     .    .     .    .    x    .    .    .    .
record_evidence                   .    x     .    .    .    .    .    .    .
inform_party                      .    x     .    .    .    .    .    .    .
inform_government                 .    .     .    .    x    .    .    .    .
record_time_and_costs             .    x     .    .    .    .    .    .    .
record_subjects_not_informed      .    .     .    .    x    .    .    .    .
handle_addresses                  .    .     x    .    .    x    .    .    .
signal_dpia                       .    .     x    x    .    x    .    .    .
take_fg_advice_on_dpia            .    .     .    .    .    x    .    .    .
assign_dpia                       .    .     .    .    .    x    .    .    .
carry_out_dpia                    .    .     x    .    .    .    .    .    .
complete_dpia_measure             .    x     x    .    .    x    .    .    .
consult_ap                        .    .     x    .    .    .    .    .    .
assess_dpia_as_fg                 .    .     .    x    .    .    .    .    .
decide_on_dpia                    .    .     .    .    x    x    .    .    .
run_retention                     .    .     x    .    .    .    .    x    .
place_legal_hold                  .    .     .    .    x    .    .    .    .
lift_legal_hold                   .    .     .    .    x    .    .    .    .
record_fg_annual_report           .    .     .    x    .    .    .    .    .
record_breach_register_evaluation .    x     x    .    .    .    .    .    .
record_ciso_quarterly_report      .    x     .    .    .    .    .    .    .
acknowledge_request               .    .     x    .    .    x    .    .    .
send_decision                     .    .     .    .    x    x    .    .    .
notify_recipients                 .    .     x    .    .    x    .    .    .
handle_objection                  .    .     x    .    x    .    .    .    .
record_notice_of_default          .    .     x    .    .    .    .    .    .
"""

CELLS = [
    (Command(line.split()[0]), ROLE[role], mark == "x")
    for line in MATRIX.strip().splitlines()
    for role, mark in zip(ROLES, line.split()[1:], strict=True)
]


def test_the_matrix_names_every_command_once():
    assert sorted({c for c, _, _ in CELLS}) == sorted(Command)
    assert len(CELLS) == len(Command) * len(Role)


@pytest.mark.parametrize(
    ("command", "role", "allowed"), CELLS, ids=[f"{c.value}-{r.name}" for c, r, _ in CELLS]
)
def test_every_command_for_every_role(command, role, allowed):
    where = DEPLOYMENT if role is Role.DEPLOYMENT_AUDITOR else "Nijkerk"
    actor = Actor.with_grants("someone", [Grant(role, where)])
    if allowed:
        assert authorise(actor, command, "Nijkerk", "college van B&W") is role
    else:
        with pytest.raises(NotAuthorised):
            authorise(actor, command, "Nijkerk", "college van B&W")


def test_a_role_in_one_municipality_does_not_reach_another():
    secretary = Actor.with_grants("gs@nijkerk.nl", [Grant(Role.SECRETARY, "Nijkerk")])
    with pytest.raises(NotAuthorised, match="may not decide_notification for Putten"):
        authorise(secretary, Command.DECIDE_NOTIFICATION, "Putten", None)


def test_a_grant_for_one_controller_does_not_cover_another():
    owner = Actor.with_grants(
        "pe@leusden.nl", [Grant(Role.PROCESS_OWNER, "Leusden", "heffingsambtenaar")]
    )
    assert authorise(owner, Command.DECIDE_REQUEST, "Leusden", "heffingsambtenaar")
    with pytest.raises(NotAuthorised, match="allowed roles"):
        authorise(owner, Command.DECIDE_REQUEST, "Leusden", "burgemeester")


def test_one_fg_serves_four_municipalities():
    fg = Actor.with_grants(
        "fg@blnp.nl",
        [Grant(Role.FG, m) for m in ("Bunschoten", "Leusden", "Nijkerk", "Putten")],
    )
    for municipality in ("Bunschoten", "Leusden", "Nijkerk", "Putten"):
        assert authorise(fg, Command.GIVE_FG_ADVICE, municipality, None) is Role.FG
    with pytest.raises(NotAuthorised):
        authorise(fg, Command.GIVE_FG_ADVICE, "Amersfoort", None)


def test_only_a_deployment_auditor_reaches_the_whole_deployment():
    auditor = Actor.with_grants("audit@ibd.nl", [Grant(Role.DEPLOYMENT_AUDITOR, DEPLOYMENT)])
    for municipality in ("Leusden", "Amersfoort"):
        assert authorise(auditor, Command.VERIFY_LEDGER, municipality, "burgemeester")
    assert authorise(auditor, Command.READ_LEDGER_STATES, DEPLOYMENT, None)
    # '*' is not a wildcard for any other role, and a municipal auditor reads no states.
    fg = Actor.with_grants("fg@blnp.nl", [Grant(Role.FG, DEPLOYMENT)])
    with pytest.raises(NotAuthorised):
        authorise(fg, Command.READ_REGISTERS, "Leusden", None)
    town = Actor.with_grants("a@leusden.nl", [Grant(Role.DEPLOYMENT_AUDITOR, "Leusden")])
    with pytest.raises(NotAuthorised):
        authorise(town, Command.READ_LEDGER_STATES, DEPLOYMENT, None)


# --- the FG's independence (art. 38(6)): the commands an FG never gives where it is FG ------------

#                      the roles that decide, each also holding the FG's grant there
DECIDING = """
decide_notification    secretaris
decide_request         secretaris proceseigenaar
decide_on_objection    secretaris
answer_fg_advice       secretaris proceseigenaar
"""
CONFLICTS = [
    (Command(line.split()[0]), ROLE[role])
    for line in DECIDING.strip().splitlines()
    for role in line.split()[1:]
]


@pytest.mark.parametrize(
    ("command", "role"), CONFLICTS, ids=[f"{c.value}-{r.name}" for c, r in CONFLICTS]
)
def test_an_fg_that_also_holds_a_deciding_role_does_not_decide_there(command, role):
    both = Actor.with_grants("fg@blnp.nl", [Grant(Role.FG, "Nijkerk"), Grant(role, "Nijkerk")])
    with pytest.raises(NotAuthorised, match="art. 38"):
        authorise(both, command, "Nijkerk", "college van B&W")
    with pytest.raises(NotAuthorised, match="Nijkerk cannot also hold a deciding role"):
        check_independence(both.grants)
    # Where it is not FG, the same role decides.
    elsewhere = Actor.with_grants("fg@blnp.nl", [Grant(Role.FG, "Putten"), Grant(role, "Nijkerk")])
    check_independence(elsewhere.grants)
    assert authorise(elsewhere, command, "Nijkerk", "college van B&W") is role


def test_the_fg_keeps_every_other_role_it_holds_beside_its_own():
    reporter = Actor.with_grants(
        "fg@blnp.nl", [Grant(Role.FG, "Nijkerk"), Grant(Role.CISO, "Nijkerk")]
    )
    check_independence(reporter.grants)
    assert authorise(reporter, Command.TRIAGE_INCIDENT, "Nijkerk", None) is Role.CISO
