//! W3C Trace Context: the trace a request belongs to, taken from its caller's
//! `traceparent` or begun here, and the `traceparent` its calls to other domains
//! carry, so that one order is one trace in every domain's log lines.

/// This request's place in its trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// 32 lower-case hex digits, the same in every domain the trace reaches.
    pub trace_id: String,
    /// 16 lower-case hex digits, this request's own span.
    pub span_id: String,
    /// The caller's trace flags (`01`: sampled), kept as they came.
    flags: String,
}

impl TraceContext {
    /// The caller's trace continued with a span of this request, or a new trace
    /// when the caller sent no valid `traceparent`.
    pub fn continue_from(traceparent: Option<&str>) -> Self {
        let span_id = random_hex()[..16].to_owned();
        match traceparent.and_then(parse) {
            Some((trace_id, flags)) => Self { trace_id, span_id, flags },
            None => Self { trace_id: random_hex(), span_id, flags: "01".into() },
        }
    }

    /// The header this request's own calls carry: this span is their parent.
    pub fn traceparent(&self) -> String {
        format!("00-{}-{}-{}", self.trace_id, self.span_id, self.flags)
    }
}

/// The trace id and flags of a `traceparent`: `version-traceid-parentid-flags`,
/// lower-case hex, neither id all zeros; a later version may append fields.
fn parse(traceparent: &str) -> Option<(String, String)> {
    let mut fields = traceparent.trim().split('-');
    let (version, trace_id, parent_id, flags) = (fields.next()?, fields.next()?, fields.next()?, fields.next()?);
    let hex =
        |text: &str, len: usize| text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let nonzero = |text: &str| text.bytes().any(|b| b != b'0');
    let valid = hex(version, 2)
        && version != "ff"
        && (version != "00" || fields.next().is_none())
        && hex(trace_id, 32)
        && nonzero(trace_id)
        && hex(parent_id, 16)
        && nonzero(parent_id)
        && hex(flags, 2);
    valid.then(|| (trace_id.to_owned(), flags.to_owned()))
}

/// 32 random lower-case hex digits.
fn random_hex() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALLERS: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn a_callers_trace_is_continued_with_a_span_of_our_own() {
        let context = TraceContext::continue_from(Some(CALLERS));
        assert_eq!(context.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(context.span_id, "00f067aa0ba902b7");
        assert_eq!(context.traceparent(), format!("00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01", context.span_id));
    }

    #[test]
    fn an_invalid_traceparent_begins_a_new_trace() {
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "garbage",
        ] {
            let context = TraceContext::continue_from(Some(bad));
            assert_ne!(context.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736", "{bad}");
            assert_eq!((context.trace_id.len(), context.span_id.len()), (32, 16));
        }
        assert!(parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later").is_some());
    }
}
