//! What tickets cost: a line per ticket type at its list price, a voucher's
//! discount taken off each ticket (rounded half up to the cent, never below
//! zero), in one currency for one event.

use chrono::NaiveDateTime;
use uuid::Uuid;

use crate::error::TicketingError;
use crate::model::{PricedLine, SaleType};
use crate::voucher::Voucher;

/// The event and currency every ticket type of a basket shares, once each
/// type asked for was found (`types` as read for `wanted`, in its order).
pub fn one_event_and_currency(wanted: &[(Uuid, i32)], types: &[SaleType]) -> Result<(Uuid, String), TicketingError> {
    let [first, ..] = types else {
        return Err(TicketingError::TicketTypeNotFound);
    };
    if types.len() != wanted.len() || wanted.iter().zip(types).any(|((id, _), t)| *id != t.id) {
        return Err(TicketingError::TicketTypeNotFound);
    }
    if types.iter().any(|t| t.event_id != first.event_id) {
        return Err(TicketingError::MixedLines("must all be ticket types of one event"));
    }
    if types.iter().any(|t| t.currency != first.currency) {
        return Err(TicketingError::MixedLines("must all be priced in one currency"));
    }
    Ok((first.event_id, first.currency.clone()))
}

/// Whether `voucher` may be used at `now` (its uses left are counted when it
/// is redeemed, under lock).
pub fn voucher_usable(voucher: &Voucher, now: NaiveDateTime) -> Result<(), TicketingError> {
    if voucher.is_valid_at(now) { Ok(()) } else { Err(TicketingError::VoucherNotValidNow) }
}

/// The lines of a checkout: a hidden type only with a voucher that unlocks it,
/// each ticket at its list price less the voucher's discount.
pub fn checkout_lines(
    wanted: &[(Uuid, i32)],
    types: &[SaleType],
    voucher: Option<&Voucher>,
) -> Result<Vec<PricedLine>, TicketingError> {
    if types.iter().any(|t| t.hidden && !voucher.is_some_and(|v| v.unlocks.contains(&t.id))) {
        return Err(TicketingError::VoucherRequired);
    }
    Ok(wanted.iter().zip(types).map(|(&(_, quantity), t)| line(t, quantity, voucher)).collect())
}

/// The one line of a direct order, which takes no voucher: a hidden type needs
/// one, so it is bought through a checkout.
pub fn order_line(ticket_type: &SaleType, quantity: i32) -> Result<PricedLine, TicketingError> {
    if ticket_type.hidden {
        return Err(TicketingError::VoucherRequired);
    }
    Ok(line(ticket_type, quantity, None))
}

fn line(ticket_type: &SaleType, quantity: i32, voucher: Option<&Voucher>) -> PricedLine {
    let list = ticket_type.price_cents;
    PricedLine {
        ticket_type_id: ticket_type.id,
        quantity,
        list_price_cents: list,
        unit_price_cents: voucher.map_or(list, |v| discounted(list, v.percent_off, v.amount_off_cents)),
    }
}

/// `list_cents` less a percentage (rounded half up to the cent) or a fixed
/// amount, never below zero; in 128 bits, so no price or discount overflows.
pub fn discounted(list_cents: i64, percent_off: Option<i32>, amount_off_cents: Option<i64>) -> i64 {
    let off = match (percent_off, amount_off_cents) {
        (Some(percent), _) => (i128::from(list_cents) * i128::from(percent) + 50) / 100,
        (None, Some(amount)) => i128::from(amount),
        (None, None) => 0,
    };
    (i128::from(list_cents) - off).max(0) as i64
}

/// What lines add up to: at list price, taken off by vouchers, and to pay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    pub total_cents: i64,
    pub discount_cents: i64,
    pub amount_cents: i64,
}

pub fn totals(lines: &[PricedLine]) -> Totals {
    let total_cents = lines.iter().map(|l| l.list_price_cents * i64::from(l.quantity)).sum();
    let amount_cents: i64 = lines.iter().map(|l| l.unit_price_cents * i64::from(l.quantity)).sum();
    Totals { total_cents, discount_cents: total_cents - amount_cents, amount_cents }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    const EVENT: Uuid = Uuid::from_u128(1);

    fn sale_type(id: u128, price_cents: i64) -> SaleType {
        SaleType {
            id: Uuid::from_u128(id),
            event_id: EVENT,
            price_cents,
            currency: "EUR".into(),
            quantity: 100,
            hidden: false,
            known_on_sale: true,
            watched: false,
            room: None,
        }
    }

    fn at(seconds: i64) -> NaiveDateTime {
        DateTime::from_timestamp(seconds, 0).expect("an instant").naive_utc()
    }

    fn voucher(percent_off: Option<i32>, amount_off_cents: Option<i64>, unlocks: &[u128]) -> Voucher {
        Voucher {
            id: Uuid::from_u128(9),
            event_id: EVENT,
            code: "SPRING".into(),
            percent_off,
            amount_off_cents,
            unlocks: unlocks.iter().copied().map(Uuid::from_u128).collect(),
            max_uses: 5,
            used: 0,
            valid_from: Some(at(1_000)),
            valid_until: Some(at(2_000)),
            created_by: Uuid::nil(),
            created_at: at(0),
        }
    }

    fn wanted(lines: &[(u128, i32)]) -> Vec<(Uuid, i32)> {
        lines.iter().map(|&(id, quantity)| (Uuid::from_u128(id), quantity)).collect()
    }

    #[test]
    fn a_percentage_rounds_half_up_to_the_cent_and_never_below_zero() {
        assert_eq!(discounted(2500, Some(20), None), 2000);
        assert_eq!(discounted(999, Some(15), None), 849, "149.85 off rounds to 150");
        assert_eq!(discounted(999, Some(10), None), 899, "99.9 off rounds to 100");
        assert_eq!(discounted(1, Some(50), None), 0, "half a cent off rounds up to the cent");
        assert_eq!(discounted(1, Some(49), None), 1);
        assert_eq!(discounted(2500, Some(100), None), 0);
        assert_eq!(discounted(0, Some(30), None), 0, "a free ticket stays free");
    }

    #[test]
    fn an_amount_off_never_takes_a_price_below_zero() {
        assert_eq!(discounted(2500, None, Some(500)), 2000);
        assert_eq!(discounted(2500, None, Some(2500)), 0);
        assert_eq!(discounted(2500, None, Some(5000)), 0);
        assert_eq!(discounted(2500, None, None), 2500);
        assert_eq!(discounted(i64::MAX, None, Some(i64::MAX)), 0, "no overflow at the extremes");
        assert_eq!(discounted(i64::MAX, Some(100), None), 0);
    }

    #[test]
    fn every_ticket_type_asked_for_must_be_found() {
        let types = [sale_type(1, 1000), sale_type(2, 500)];
        assert_eq!(one_event_and_currency(&wanted(&[(1, 1), (2, 1)]), &types), Ok((EVENT, "EUR".into())));
        let missing = one_event_and_currency(&wanted(&[(1, 1), (3, 1)]), &types);
        assert_eq!(missing, Err(TicketingError::TicketTypeNotFound));
        assert_eq!(one_event_and_currency(&wanted(&[(1, 1)]), &[]), Err(TicketingError::TicketTypeNotFound));
        let fewer = one_event_and_currency(&wanted(&[(1, 1), (2, 1)]), &types[..1]);
        assert_eq!(fewer, Err(TicketingError::TicketTypeNotFound));
    }

    #[test]
    fn a_basket_is_of_one_event_in_one_currency() {
        let mut other_event = sale_type(2, 500);
        other_event.event_id = Uuid::from_u128(7);
        let mixed = one_event_and_currency(&wanted(&[(1, 1), (2, 1)]), &[sale_type(1, 1000), other_event]);
        assert_eq!(mixed, Err(TicketingError::MixedLines("must all be ticket types of one event")));
        let mut dollars = sale_type(2, 500);
        dollars.currency = "USD".into();
        let mixed = one_event_and_currency(&wanted(&[(1, 1), (2, 1)]), &[sale_type(1, 1000), dollars]);
        assert_eq!(mixed, Err(TicketingError::MixedLines("must all be priced in one currency")));
    }

    #[test]
    fn a_voucher_is_usable_from_its_start_until_just_before_its_end() {
        let spring = voucher(Some(10), None, &[]);
        assert_eq!(voucher_usable(&spring, at(999)), Err(TicketingError::VoucherNotValidNow));
        assert_eq!(voucher_usable(&spring, at(1_000)), Ok(()));
        assert_eq!(voucher_usable(&spring, at(1_999)), Ok(()));
        assert_eq!(voucher_usable(&spring, at(2_000)), Err(TicketingError::VoucherNotValidNow));
        let always = Voucher { valid_from: None, valid_until: None, ..spring };
        assert_eq!(voucher_usable(&always, at(0)), Ok(()));
    }

    #[test]
    fn a_hidden_type_is_sold_only_with_a_voucher_that_unlocks_it() {
        let mut hidden = sale_type(2, 5000);
        hidden.hidden = true;
        let types = [sale_type(1, 1000), hidden.clone()];
        let basket = wanted(&[(1, 1), (2, 1)]);
        assert_eq!(checkout_lines(&basket, &types, None), Err(TicketingError::VoucherRequired));
        let other_unlock = voucher(None, None, &[3]);
        assert_eq!(checkout_lines(&basket, &types, Some(&other_unlock)), Err(TicketingError::VoucherRequired));
        let unlock = voucher(None, None, &[2]);
        let lines = checkout_lines(&basket, &types, Some(&unlock)).expect("unlocked");
        assert_eq!(
            lines.iter().map(|l| l.unit_price_cents).collect::<Vec<_>>(),
            [1000, 5000],
            "unlocking costs nothing"
        );
        assert_eq!(order_line(&hidden, 1), Err(TicketingError::VoucherRequired), "a direct order takes no voucher");
    }

    #[test]
    fn a_voucher_discounts_every_line_and_the_totals_add_up() {
        let types = [sale_type(1, 2500), sale_type(2, 999)];
        let lines =
            checkout_lines(&wanted(&[(1, 2), (2, 3)]), &types, Some(&voucher(Some(15), None, &[]))).expect("priced");
        assert_eq!((lines[0].unit_price_cents, lines[1].unit_price_cents), (2125, 849));
        let sums = totals(&lines);
        assert_eq!(
            sums,
            Totals {
                total_cents: 2 * 2500 + 3 * 999,
                discount_cents: 2 * 375 + 3 * 150,
                amount_cents: 2 * 2125 + 3 * 849
            }
        );
        let full = order_line(&types[0], 4).expect("visible");
        assert_eq!(totals(&[full]), Totals { total_cents: 10_000, discount_cents: 0, amount_cents: 10_000 });
        assert_eq!(totals(&[]), Totals { total_cents: 0, discount_cents: 0, amount_cents: 0 });
    }
}
