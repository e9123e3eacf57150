//! Where an order's payment may move, as the operator's payment integration
//! moves it: `pending` → `paid` while the order stands, `paid` → `refunded`
//! (which cancels every ticket that stands); asking for the state it is in
//! changes nothing, so the integration may repeat its call.

use crate::error::TicketingError;
use crate::model::{OrderStatus, Payment};

/// What moving a payment does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStep {
    /// It is there already.
    Nothing,
    /// The money came in: record it.
    MarkPaid,
    /// The money goes back: cancel what stands, which refunds it.
    RefundAll,
}

pub fn step(order: OrderStatus, from: Payment, to: Payment) -> Result<PaymentStep, TicketingError> {
    match (from, to) {
        (from, to) if from == to => Ok(PaymentStep::Nothing),
        (Payment::Pending, Payment::Paid) if order == OrderStatus::Confirmed => Ok(PaymentStep::MarkPaid),
        (Payment::Paid, Payment::Refunded) => Ok(PaymentStep::RefundAll),
        (from, to) => Err(TicketingError::PaymentTransition { from, to }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATES: [Payment; 3] = [Payment::Pending, Payment::Paid, Payment::Refunded];

    #[test]
    fn money_comes_in_then_may_go_back_and_nothing_else() {
        let confirmed = OrderStatus::Confirmed;
        assert_eq!(step(confirmed, Payment::Pending, Payment::Paid), Ok(PaymentStep::MarkPaid));
        assert_eq!(step(confirmed, Payment::Paid, Payment::Refunded), Ok(PaymentStep::RefundAll));
        for (from, to) in [
            (Payment::Pending, Payment::Refunded),
            (Payment::Paid, Payment::Pending),
            (Payment::Refunded, Payment::Paid),
        ] {
            assert_eq!(
                step(confirmed, from, to),
                Err(TicketingError::PaymentTransition { from, to }),
                "{from:?} → {to:?}"
            );
        }
        assert_eq!(step(confirmed, Payment::Refunded, Payment::Pending).is_err(), true);
    }

    #[test]
    fn a_repeated_call_changes_nothing_in_any_state() {
        for state in STATES {
            for order in [OrderStatus::Confirmed, OrderStatus::Cancelled] {
                assert_eq!(step(order, state, state), Ok(PaymentStep::Nothing), "{order:?} {state:?}");
            }
        }
    }

    #[test]
    fn a_cancelled_order_is_never_marked_paid() {
        let refused = step(OrderStatus::Cancelled, Payment::Pending, Payment::Paid);
        assert_eq!(refused, Err(TicketingError::PaymentTransition { from: Payment::Pending, to: Payment::Paid }));
    }
}
