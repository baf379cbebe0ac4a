//! Who may do what to a report: one policy for every officer route, the console and lapor-local.
//! A caller is a [`Role`] from a verified token; what the report is to the caller's agency is a
//! [`Relation`]. Handlers ask [`check`] and show the [`Refusal`]'s message; none decides itself.
//!
//! Identity is a separate rule ([`identity_visible`]), because it also depends on the report's
//! privacy and applies to the public and the reporter as well as to agencies.

use crate::agency::{AgencyId, Role};
use crate::error::Message;
use crate::report::Privacy;

/// What the report is to the caller's agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The caller's agency holds the report.
    Own,
    /// One of the caller's agency's departments (dinas) holds it.
    Department,
    /// Another agency holds it.
    Other,
    /// No agency holds it: it waits in the central admin's triage.
    Central,
}

impl Relation {
    /// The relation of a report held by `holder` (none in triage) to `caller`'s agency;
    /// `is_department` says whether `holder` is one of the caller's departments.
    pub fn of(caller: &AgencyId, holder: Option<&AgencyId>, is_department: bool) -> Relation {
        match holder {
            None => Relation::Central,
            Some(holder) if holder == caller => Relation::Own,
            Some(_) if is_department => Relation::Department,
            Some(_) => Relation::Other,
        }
    }

    pub const ALL: [Relation; 4] = [
        Relation::Own,
        Relation::Department,
        Relation::Other,
        Relation::Central,
    ];
}

/// Where a report is being forwarded, seen from the caller's agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardTo {
    /// One of the caller's own departments.
    OwnDepartment,
    /// Any other handling agency.
    Elsewhere,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read the report and its timeline in the console.
    View,
    /// List the central admin's triage queue.
    ListTriage,
    /// Answer the report: diproses, selesai, tertunda.
    FollowUp,
    /// Forward it (disposisi).
    Forward(ForwardTo),
    /// Return it as not the agency's authority (bukan wewenang).
    Return,
    /// Close it without action (spam, duplicate).
    Archive,
    /// See the reporter's name and contact, where the report's privacy allows it at all.
    SeeIdentity,
    /// Run the overdue sweep by hand.
    RunSweep,
    /// See an agency's dashboard figures (`relation`: the agency to the caller's): its reports
    /// by colour and its on-time follow-up share.
    ViewDashboard,
    /// Rank every agency by overdue reports and on-time share.
    RankAgencies,
}

impl Action {
    pub const ALL: [Action; 11] = [
        Action::View,
        Action::ListTriage,
        Action::FollowUp,
        Action::Forward(ForwardTo::OwnDepartment),
        Action::Forward(ForwardTo::Elsewhere),
        Action::Return,
        Action::Archive,
        Action::SeeIdentity,
        Action::RunSweep,
        Action::ViewDashboard,
        Action::RankAgencies,
    ];
}

/// Why an action was refused; each has the message the caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The report is not the caller's agency's, or the role may not act on it.
    NotYours,
    /// Only the central admin may do this.
    CentralOnly(Action),
    /// An agency admin forwards only to its own departments.
    OwnDepartmentsOnly,
}

impl Refusal {
    pub fn message(self) -> Message {
        match self {
            Refusal::NotYours => Message::new(
                "Laporan ini tidak ditangani oleh instansi Anda, atau peran Anda tidak mengizinkan tindakan ini.",
                "This report is not handled by your agency, or your role does not allow this action.",
            ),
            Refusal::CentralOnly(Action::RunSweep) => Message::new(
                "Penyapuan tenggat hanya untuk admin pusat.",
                "Only the central admin may run the deadline sweep.",
            ),
            Refusal::CentralOnly(Action::RankAgencies) => Message::new(
                "Peringkat seluruh instansi hanya untuk admin pusat.",
                "Only the central admin may see every agency ranked.",
            ),
            Refusal::CentralOnly(_) => Message::new(
                "Antrean verifikasi hanya untuk admin pusat.",
                "The triage queue is for the central admin only.",
            ),
            Refusal::OwnDepartmentsOnly => Message::new(
                "Admin instansi hanya dapat meneruskan kepada dinas di bawahnya.",
                "An agency admin can only forward to its own departments.",
            ),
        }
    }
}

/// Whether `role` may take `action` on a report that is `relation` to the caller's agency.
pub fn check(role: Role, action: Action, relation: Relation) -> Result<(), Refusal> {
    use Relation::{Department, Own};
    let allowed = match (role, action) {
        // The central admin verifies and forwards; answering is the agency's job.
        (Role::AdminPusat, Action::FollowUp | Action::Return) => false,
        (Role::AdminPusat, _) => true,
        (_, Action::ListTriage | Action::RunSweep | Action::RankAgencies) => {
            return Err(Refusal::CentralOnly(action))
        }
        (Role::AgencyAdmin, Action::View | Action::SeeIdentity | Action::ViewDashboard) => {
            matches!(relation, Own | Department)
        }
        (Role::Officer, Action::View | Action::SeeIdentity | Action::ViewDashboard) => {
            relation == Own
        }
        (Role::AgencyAdmin | Role::Officer, Action::FollowUp | Action::Return) => relation == Own,
        (Role::AgencyAdmin, Action::Archive) => relation == Own,
        (Role::AgencyAdmin, Action::Forward(ForwardTo::OwnDepartment)) => relation == Own,
        (Role::AgencyAdmin, Action::Forward(ForwardTo::Elsewhere)) if relation == Own => {
            return Err(Refusal::OwnDepartmentsOnly)
        }
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Refusal::NotYours)
    }
}

/// Who is looking at a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// Anyone, without the access key.
    Public,
    /// The reporter, with the access key.
    Reporter,
    /// An agency or the central admin that [`check`] lets see identity.
    Agency,
}

/// Whether `viewer` may see the reporter's name and contact on a report of this privacy. The
/// public never does; the reporter always does; agencies only on `publik` reports.
pub fn identity_visible(viewer: Viewer, privacy: Privacy) -> bool {
    match viewer {
        Viewer::Public => false,
        Viewer::Reporter => true,
        Viewer::Agency => privacy == Privacy::Publik,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole policy as a table: for each action, the relations each role may act on.
    /// `O` own, `D` department, `X` other agency, `C` central triage.
    const TABLE: [(Action, &str, &str, &str); 11] = [
        //                                          admin_pusat  agency_admin  officer
        (Action::View, "ODXC", "OD", "O"),
        (Action::ListTriage, "ODXC", "", ""),
        (Action::FollowUp, "", "O", "O"),
        (Action::Forward(ForwardTo::OwnDepartment), "ODXC", "O", ""),
        (Action::Forward(ForwardTo::Elsewhere), "ODXC", "", ""),
        (Action::Return, "", "O", "O"),
        (Action::Archive, "ODXC", "O", ""),
        (Action::SeeIdentity, "ODXC", "OD", "O"),
        (Action::RunSweep, "ODXC", "", ""),
        (Action::ViewDashboard, "ODXC", "OD", "O"),
        (Action::RankAgencies, "ODXC", "", ""),
    ];

    fn letter(relation: Relation) -> char {
        match relation {
            Relation::Own => 'O',
            Relation::Department => 'D',
            Relation::Other => 'X',
            Relation::Central => 'C',
        }
    }

    #[test]
    fn every_role_action_and_relation_is_decided_by_the_table() {
        assert_eq!(TABLE.len(), Action::ALL.len(), "every action has a row");
        for (action, admin_pusat, agency_admin, officer) in TABLE {
            for (role, allowed) in [
                (Role::AdminPusat, admin_pusat),
                (Role::AgencyAdmin, agency_admin),
                (Role::Officer, officer),
            ] {
                for relation in Relation::ALL {
                    let expected = allowed.contains(letter(relation));
                    assert_eq!(
                        check(role, action, relation).is_ok(),
                        expected,
                        "{role:?} {action:?} on {relation:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn refusals_say_why() {
        assert_eq!(
            check(
                Role::AgencyAdmin,
                Action::Forward(ForwardTo::Elsewhere),
                Relation::Own
            ),
            Err(Refusal::OwnDepartmentsOnly)
        );
        assert_eq!(
            check(Role::Officer, Action::ListTriage, Relation::Central),
            Err(Refusal::CentralOnly(Action::ListTriage))
        );
        assert_eq!(
            check(Role::Officer, Action::FollowUp, Relation::Other),
            Err(Refusal::NotYours)
        );
        assert!(Refusal::CentralOnly(Action::RunSweep)
            .message()
            .en
            .contains("sweep"));
        assert_eq!(
            check(Role::AgencyAdmin, Action::RankAgencies, Relation::Central),
            Err(Refusal::CentralOnly(Action::RankAgencies))
        );
        assert!(Refusal::CentralOnly(Action::RankAgencies)
            .message()
            .en
            .contains("ranked"));
    }

    #[test]
    fn relations_follow_who_holds_the_report() {
        let own = AgencyId::parse("kota-cirebon").expect("id");
        let dept = AgencyId::parse("kota-cirebon-dpupr").expect("id");
        assert_eq!(Relation::of(&own, None, false), Relation::Central);
        assert_eq!(Relation::of(&own, Some(&own), false), Relation::Own);
        assert_eq!(Relation::of(&own, Some(&dept), true), Relation::Department);
        assert_eq!(Relation::of(&own, Some(&dept), false), Relation::Other);
    }

    #[test]
    fn identity_shows_to_the_reporter_always_to_agencies_on_publik_only_and_never_publicly() {
        use Privacy::*;
        for (privacy, agency) in [
            (Publik, true),
            (Anonim, false),
            (Rahasia, false),
            (RahasiaAnonim, false),
        ] {
            assert!(!identity_visible(Viewer::Public, privacy));
            assert!(identity_visible(Viewer::Reporter, privacy));
            assert_eq!(
                identity_visible(Viewer::Agency, privacy),
                agency,
                "{privacy:?}"
            );
        }
    }
}
