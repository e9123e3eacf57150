//! Which refusals expired holds can end: a shortage whose figures count what
//! expired holds still take as free. A buyer who meets one gives back the
//! event's expired holds and tries again (`hold::retrying_after_expiry`).

use crate::error::TicketingError;

pub fn expired_holds_cover(refusal: &TicketingError) -> bool {
    match *refusal {
        TicketingError::SoldOut { available, wanted } => available >= wanted,
        TicketingError::VoucherUsedUp { uses_left } => uses_left > 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shortage_that_expired_holds_take_is_tried_again() {
        assert!(expired_holds_cover(&TicketingError::SoldOut { available: 4, wanted: 2 }));
        assert!(expired_holds_cover(&TicketingError::SoldOut { available: 2, wanted: 2 }));
        assert!(expired_holds_cover(&TicketingError::VoucherUsedUp { uses_left: 1 }));
    }

    #[test]
    fn a_shortage_nothing_expired_takes_is_final() {
        assert!(!expired_holds_cover(&TicketingError::SoldOut { available: 1, wanted: 2 }));
        assert!(!expired_holds_cover(&TicketingError::SoldOut { available: 0, wanted: 1 }));
        assert!(!expired_holds_cover(&TicketingError::VoucherUsedUp { uses_left: 0 }));
        assert!(!expired_holds_cover(&TicketingError::VoucherRequired));
    }
}
