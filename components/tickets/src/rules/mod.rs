//! Ticketing's decisions, with no SQL and no HTTP: what a basket costs, which
//! tickets a cancellation takes and what it refunds, where a payment may move,
//! and which refusals expired holds can end. The workflows (`sale.rs`,
//! `hold.rs`, `refund.rs`) read what they need, ask these, and write what they
//! were told; each rule is unit-tested here, edge cases included.

pub mod cancellation;
pub mod payment;
pub mod pricing;
pub mod shortage;
