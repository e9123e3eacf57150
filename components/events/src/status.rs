//! The moderation life cycle of an event.
//!
//! ```text
//! pending_review --approve--> published --cancel--> cancelled
//!       |  ^                                ^
//!    reject |edit                            |
//!       v  |                                 |
//!    rejected          pending_review --cancel
//! ```

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    PendingReview,
    Published,
    Rejected,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approve,
    Reject,
}

impl Status {
    pub const ALL: [Status; 4] = [Status::PendingReview, Status::Published, Status::Rejected, Status::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::PendingReview => "pending_review",
            Status::Published => "published",
            Status::Rejected => "rejected",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Moderation decides only events waiting for review.
    pub fn moderate(self, decision: Decision) -> Result<Status, IllegalTransition> {
        match (self, decision) {
            (Status::PendingReview, Decision::Approve) => Ok(Status::Published),
            (Status::PendingReview, Decision::Reject) => Ok(Status::Rejected),
            (current, _) => Err(illegal(current, "moderated", "only events pending review can be moderated")),
        }
    }

    pub fn cancel(self) -> Result<Status, IllegalTransition> {
        match self {
            Status::PendingReview | Status::Published => Ok(Status::Cancelled),
            current => Err(illegal(current, "cancelled", "only pending or published events can be cancelled")),
        }
    }

    /// An edit sends a rejected event back to review; a cancelled one is final.
    pub fn after_edit(self) -> Result<Status, IllegalTransition> {
        match self {
            Status::Rejected => Ok(Status::PendingReview),
            Status::Cancelled => Err(illegal(self, "edited", "a cancelled event cannot be edited")),
            other => Ok(other),
        }
    }
}

/// A change the event's current status does not allow, and the rule that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the event is {} and cannot be {verb}: {rule}", current.as_str())]
pub struct IllegalTransition {
    pub current: Status,
    pub verb: &'static str,
    pub rule: &'static str,
}

fn illegal(current: Status, verb: &'static str, rule: &'static str) -> IllegalTransition {
    IllegalTransition { current, verb, rule }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn approving_a_pending_event_publishes_it() {
        assert_eq!(PendingReview.moderate(Decision::Approve), Ok(Published));
    }

    #[test]
    fn rejecting_a_pending_event_rejects_it() {
        assert_eq!(PendingReview.moderate(Decision::Reject), Ok(Rejected));
    }

    #[test]
    fn only_pending_events_can_be_moderated() {
        for status in [Published, Rejected, Cancelled] {
            for decision in [Decision::Approve, Decision::Reject] {
                assert_eq!(status.moderate(decision).map_err(|e| e.current), Err(status), "{status:?}");
            }
        }
    }

    #[test]
    fn pending_and_published_events_can_be_cancelled() {
        assert_eq!(PendingReview.cancel(), Ok(Cancelled));
        assert_eq!(Published.cancel(), Ok(Cancelled));
    }

    #[test]
    fn rejected_and_cancelled_events_cannot_be_cancelled() {
        assert!(Rejected.cancel().is_err());
        assert!(Cancelled.cancel().is_err());
    }

    #[test]
    fn editing_a_rejected_event_sends_it_back_to_review() {
        assert_eq!(Rejected.after_edit(), Ok(PendingReview));
    }

    #[test]
    fn editing_keeps_pending_and_published_events_as_they_are() {
        assert_eq!(PendingReview.after_edit(), Ok(PendingReview));
        assert_eq!(Published.after_edit(), Ok(Published));
    }

    #[test]
    fn a_cancelled_event_cannot_be_edited() {
        assert_eq!(Cancelled.after_edit().map_err(|e| e.verb), Err("edited"));
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::parse("draft"), None);
    }
}
