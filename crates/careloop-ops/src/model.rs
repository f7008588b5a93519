//! The vocabulary of outreach operations: roles, channels, outcomes, next actions, case
//! states, escalation and referral kinds. Every enum has a stable snake_case name (what the
//! event log, the CLI and the UI use) and parses from it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Declares a string-named enum: serde, Display and FromStr all use the same names.
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = crate::OpsError;
            fn from_str(s: &str) -> Result<$name, crate::OpsError> {
                match s {
                    $($text => Ok($name::$variant),)*
                    other => Err(crate::OpsError::UnknownName {
                        what: stringify!($name),
                        given: other.to_owned(),
                        expected: [$($text,)*].join(", "),
                    }),
                }
            }
        }
    };
}

named_enum! {
    /// Who someone is at work; decides what they may do and see (see [`crate::rbac`]).
    Role {
        Coordinator = "coordinator",
        Clinician = "clinician",
        Supervisor = "supervisor",
        Admin = "admin",
        /// A partner organisation's system or user answering the referrals sent to it (on
        /// the server's exchange only; never a workstation user).
        Partner = "partner",
    }
}

named_enum! {
    /// How a person is contacted.
    Channel {
        Phone = "phone",
        Sms = "sms",
        Portal = "portal",
        Email = "email",
        Letter = "letter",
        HomeVisit = "home_visit",
        PeerContact = "peer_contact",
    }
}

impl Channel {
    /// Written channels carry a message template; spoken ones follow the script live.
    pub fn is_written(self) -> bool {
        matches!(
            self,
            Channel::Sms | Channel::Portal | Channel::Email | Channel::Letter
        )
    }

    /// Only the patient portal is a secure, authenticated channel.
    pub fn is_secure(self) -> bool {
        self == Channel::Portal
    }
}

named_enum! {
    /// What an attempt found.
    Outcome {
        ConfirmedStable = "confirmed_stable",
        EmergingDeterioration = "emerging_deterioration",
        NeedsDifferentPathway = "needs_different_pathway",
        Declined = "declined",
        Unreachable = "unreachable",
        WrongNumber = "wrong_number",
    }
}

named_enum! {
    /// Why a case closed.
    CloseReason {
        Stable = "stable",
        ReEngaged = "re_engaged",
        GapClosed = "gap_closed",
        Declined = "declined",
        Unreachable = "unreachable",
        MovedOrDeceased = "moved_or_deceased",
        NotAppropriate = "not_appropriate",
        /// The data shows the gap closed (a screening result arrived): closed by the live
        /// lists, with the evidence in the note.
        ResolvedByNewData = "resolved_by_new_data",
        /// The person left the segment for another reason the data shows (died, left the
        /// panel, no longer meets the rule): closed by the live lists, the reason in the note.
        LeftSegment = "left_segment",
    }
}

named_enum! {
    /// Where a case is in its lifecycle: open → assigned → in progress → awaiting callback |
    /// escalated | referred → closed.
    CaseStatus {
        Open = "open",
        Assigned = "assigned",
        InProgress = "in_progress",
        AwaitingCallback = "awaiting_callback",
        Escalated = "escalated",
        Referred = "referred",
        Closed = "closed",
    }
}

named_enum! {
    /// The levels an unacknowledged escalation climbs.
    Level {
        Coordinator = "coordinator",
        Supervisor = "supervisor",
        ServiceLead = "service_lead",
    }
}

impl Level {
    /// The next level up, if any.
    pub fn next(self) -> Option<Level> {
        match self {
            Level::Coordinator => Some(Level::Supervisor),
            Level::Supervisor => Some(Level::ServiceLead),
            Level::ServiceLead => None,
        }
    }

    /// The role that acts for this level here (a service lead works as a supervisor in the
    /// workstation's roles).
    pub fn role(self) -> Role {
        match self {
            Level::Coordinator => Role::Coordinator,
            Level::Supervisor | Level::ServiceLead => Role::Supervisor,
        }
    }
}

named_enum! {
    /// Kinds of escalation; each has an owner level and an acknowledge deadline
    /// ([`EscalationKind::policy`]).
    EscalationKind {
        ClinicalConcern = "clinical_concern",
        Safeguarding = "safeguarding",
        SocialCrisis = "social_crisis",
        NoContact = "no_contact",
        OverdueReferral = "overdue_referral",
    }
}

/// Who first owns an escalation of a kind, and in how many working hours each level must
/// acknowledge it before it goes up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EscalationPolicy {
    pub first_level: Level,
    pub ack_working_hours: u32,
}

impl EscalationKind {
    pub fn policy(self) -> EscalationPolicy {
        let (first_level, ack_working_hours) = match self {
            // Safety first: a supervisor owns these from the start, within two working hours.
            EscalationKind::ClinicalConcern => (Level::Supervisor, 2),
            EscalationKind::Safeguarding => (Level::Supervisor, 2),
            // Eviction, food, utility shut-off: the coordinator verifies urgency the same day.
            EscalationKind::SocialCrisis => (Level::Coordinator, 4),
            EscalationKind::NoContact => (Level::Coordinator, 8),
            EscalationKind::OverdueReferral => (Level::Coordinator, 8),
        };
        EscalationPolicy {
            first_level,
            ack_working_hours,
        }
    }
}

named_enum! {
    /// Services a case can be referred to.
    ServiceType {
        HomeCare = "home_care",
        Meals = "meals",
        Transport = "transport",
        FollowUpClinic = "follow_up_clinic",
        Benefits = "benefits",
        Housing = "housing",
        BehaviouralHealth = "behavioural_health",
        EmergencyAssistance = "emergency_assistance",
    }
}

impl ServiceType {
    /// Working days the service has to accept or decline a referral.
    pub fn response_working_days(self) -> u32 {
        match self {
            ServiceType::EmergencyAssistance => 1,
            ServiceType::BehaviouralHealth | ServiceType::Housing => 3,
            _ => 5,
        }
    }

    /// Working days from acceptance until the service should have started.
    pub fn start_working_days(self) -> u32 {
        match self {
            ServiceType::EmergencyAssistance => 1,
            _ => 10,
        }
    }
}

named_enum! {
    /// Where a referral is: sent → accepted | declined → started → completed.
    ReferralStatus {
        Sent = "sent",
        Accepted = "accepted",
        Declined = "declined",
        Started = "started",
        Completed = "completed",
    }
}

named_enum! {
    /// Where an escalation is.
    EscalationStatus {
        Raised = "raised",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
    }
}

named_enum! {
    /// Where a clinician callback is.
    CallbackStatus {
        Waiting = "waiting",
        Documented = "documented",
    }
}

/// A case's identity, derived from what makes it one case: the team, the person, the segment
/// and the episode (1 for the person's first case in the segment, 2 after that one closed,
/// …). Any two places that open the same case compute the same id, so the log holds one case
/// however many times it is opened. A UUID of version 8 whose bytes are the start of a
/// SHA-256 of the four parts.
pub fn case_id(team: &str, patient_id: &str, segment_id: &str, episode: u32) -> uuid::Uuid {
    derived_id(&[team, patient_id, segment_id], &episode.to_be_bytes())
}

/// An alert's identity: the team, the kind and the source resource ("Encounter/ID"), so the
/// same event seen again (a re-import, another workstation) is the same alert.
pub fn alert_id(team: &str, kind: &str, source: &str) -> uuid::Uuid {
    derived_id(&["alert", team, kind, source], &[])
}

/// A UUID v8 from the start of a SHA-256 of the length-prefixed parts and a tail.
fn derived_id(parts: &[&str], tail: &[u8]) -> uuid::Uuid {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hash.update(tail);
    let digest = hash.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}
