//! What a gate says of a scan when it checks a ticket in: the id it gave the
//! scan, which gate, and when the ticket was scanned there, which is earlier
//! than now for a gate that was offline and syncs what it admitted.

use chrono::NaiveDateTime;
use eventos_common::fields::{Fields, Invalid, optional_text};
use eventos_common::time::parse_rfc3339;
use serde::Deserialize;

pub const MAX_GATE_CHARS: usize = 64;

/// The optional body of `POST /api/tickets/{code}/check-in`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanBody {
    scan_id: Option<String>,
    gate: Option<String>,
    scanned_at: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    /// The gate's id for this scan: sent again, it is the same scan.
    pub id: Option<String>,
    pub gate: Option<String>,
    /// When the gate scanned the ticket; `None` is now. A time ahead of the
    /// platform's clock is taken as now: a check-in is never in the future.
    pub scanned_at: Option<NaiveDateTime>,
}

impl Scan {
    pub fn parse(body: ScanBody) -> Result<Self, Invalid> {
        let mut fields = Fields::default();
        let id = fields.take("scan_id", optional_text(body.scan_id, MAX_GATE_CHARS));
        let gate = fields.take("gate", optional_text(body.gate, MAX_GATE_CHARS));
        let scanned_at = fields.take(
            "scanned_at",
            body.scanned_at
                .map(|text| {
                    parse_rfc3339(&text)
                        .map(|at| at.naive_utc())
                        .ok_or_else(|| "must be an RFC 3339 timestamp such as 2026-05-01T18:00:00Z".to_owned())
                })
                .transpose(),
        );
        match (id, gate, scanned_at) {
            (Some(id), Some(gate), Some(scanned_at)) => Ok(Scan { id, gate, scanned_at }),
            _ => Err(fields.invalid()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(gate: Option<&str>, scanned_at: Option<&str>) -> ScanBody {
        ScanBody {
            scan_id: Some("s-1".into()),
            gate: gate.map(str::to_owned),
            scanned_at: scanned_at.map(str::to_owned),
        }
    }

    #[test]
    fn a_gate_and_its_scan_time_are_read() {
        let scan = Scan::parse(body(Some(" North 1 "), Some("2027-06-01T19:02:03+02:00"))).expect("valid");
        assert_eq!(scan.gate.as_deref(), Some("North 1"));
        assert_eq!(scan.scanned_at.map(|at| at.to_string()).as_deref(), Some("2027-06-01 17:02:03"));
        assert_eq!(scan.id.as_deref(), Some("s-1"));
        let bare = ScanBody { scan_id: None, gate: None, scanned_at: None };
        assert_eq!(Scan::parse(bare), Ok(Scan::default()));
    }

    #[test]
    fn a_long_gate_or_a_bad_time_is_named() {
        let long = "g".repeat(MAX_GATE_CHARS + 1);
        let refused = Scan::parse(body(Some(&long), Some("yesterday"))).expect_err("invalid");
        let named: Vec<&str> = refused.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(named, ["gate", "scanned_at"]);
    }
}
