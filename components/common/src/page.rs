//! Keyset pagination: `?limit=&cursor=` in, `{"items", "next_cursor"}` out.
//!
//! Every list is ordered by a timestamp and then the id, so a cursor is that pair
//! for the last item served; it is hex so that clients treat it as opaque.

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;
use spin_sdk::pg4::ParameterValue;
use uuid::Uuid;

use crate::{ApiResponse, Problem};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// Where a page starts: just after this (timestamp, id) key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: NaiveDateTime,
    pub id: Uuid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<Cursor>,
}

impl PageRequest {
    /// The page a list's `limit` and `cursor` query parameters ask for.
    pub fn parse(limit: Option<&str>, cursor: Option<&str>) -> Result<Self, Problem> {
        let limit = match limit {
            None => DEFAULT_LIMIT,
            Some(text) => text
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| Problem::malformed(format!("limit must be an integer from 1 to {MAX_LIMIT}")))?,
        };
        let after = cursor
            .map(|text| Cursor::decode(text).ok_or_else(|| Problem::malformed("cursor is not one this API issued")))
            .transpose()?;
        Ok(Self { limit, after })
    }

    /// Rows to fetch: one more than the page, to learn whether another page follows.
    pub fn fetch_limit(&self) -> i64 {
        self.limit + 1
    }
}

impl Cursor {
    pub fn encode(&self) -> String {
        let micros = self.at.and_utc().timestamp_micros();
        let mut bytes = micros.to_be_bytes().to_vec();
        bytes.extend_from_slice(self.id.as_bytes());
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn decode(text: &str) -> Option<Self> {
        if text.len() != 48 || !text.is_ascii() {
            return None;
        }
        let bytes = (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        let micros = i64::from_be_bytes(bytes[..8].try_into().ok()?);
        let at = DateTime::<Utc>::from_timestamp_micros(micros)?.naive_utc();
        let id = Uuid::from_slice(&bytes[8..]).ok()?;
        Some(Self { at, id })
    }
}

/// A list query paged by keyset. `query` is a `SELECT ... WHERE` whose filters
/// use `$1` to `$n` for the n `filters`; after them come the rows past the page's
/// cursor in `(at, id)` order (every row for the first page), that order, and a
/// limit one past the page's. Answers the whole SQL and all its parameters.
pub fn keyset(
    query: &str,
    key: (&str, &str),
    filters: Vec<ParameterValue>,
    page: &PageRequest,
) -> (String, Vec<ParameterValue>) {
    keyset_ordered(query, key, filters, page, Order::OldestFirst)
}

/// As [`keyset`], newest first: a log's latest rows on its first page.
pub fn keyset_newest_first(
    query: &str,
    key: (&str, &str),
    filters: Vec<ParameterValue>,
    page: &PageRequest,
) -> (String, Vec<ParameterValue>) {
    keyset_ordered(query, key, filters, page, Order::NewestFirst)
}

enum Order {
    OldestFirst,
    NewestFirst,
}

fn keyset_ordered(
    query: &str,
    (at, id): (&str, &str),
    mut filters: Vec<ParameterValue>,
    page: &PageRequest,
    order: Order,
) -> (String, Vec<ParameterValue>) {
    let (past, direction) = match order {
        Order::OldestFirst => (">", "ASC"),
        Order::NewestFirst => ("<", "DESC"),
    };
    let (cursor_at, cursor_id, limit) = (filters.len() + 1, filters.len() + 2, filters.len() + 3);
    let sql = format!(
        "{query}
           AND (${cursor_at}::timestamp IS NULL OR ({at}, {id}) {past} (${cursor_at}::timestamp AT TIME ZONE 'UTC', ${cursor_id}::uuid))
         ORDER BY {at} {direction}, {id} {direction}
         LIMIT ${limit}"
    );
    match page.after {
        Some(cursor) => filters.extend([cursor.at.into(), cursor.id.into()]),
        None => filters.extend([ParameterValue::DbNull, ParameterValue::DbNull]),
    }
    filters.push(page.fetch_limit().into());
    (sql, filters)
}

#[derive(Serialize)]
struct Page<T> {
    items: Vec<T>,
    next_cursor: Option<String>,
}

/// Answers a list fetched with `fetch_limit`, cutting the look-ahead row into a cursor.
pub fn page_response<T: Serialize>(page: &PageRequest, mut items: Vec<T>, key: impl Fn(&T) -> Cursor) -> ApiResponse {
    let limit = usize::try_from(page.limit).unwrap_or(usize::MAX);
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items.last().map(|last| key(last).encode())
    } else {
        None
    };
    ApiResponse::ok(&Page { items, next_cursor })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EventListQuery {
    event_id: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

/// `?event_id=&limit=&cursor=` of a list that may be narrowed to one event:
/// that event, if named, and the page asked for.
pub fn event_list_query(req: &crate::ApiRequest) -> Result<(Option<Uuid>, PageRequest), Problem> {
    let query: EventListQuery = req.query()?;
    let page = PageRequest::parse(query.limit.as_deref(), query.cursor.as_deref())?;
    Ok((crate::fields::query_uuid("event_id", query.event_id.as_deref())?, page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ApiRequest;

    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct PageQuery {
        limit: Option<String>,
        cursor: Option<String>,
    }

    fn page(query: &str) -> Result<PageRequest, Problem> {
        let query: PageQuery = ApiRequest { query: query.into(), ..ApiRequest::default() }.query()?;
        PageRequest::parse(query.limit.as_deref(), query.cursor.as_deref())
    }

    #[test]
    fn a_cursor_survives_a_round_trip() {
        let cursor = Cursor {
            at: DateTime::<Utc>::from_timestamp_micros(1_777_000_000_123_456).expect("in range").naive_utc(),
            id: Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
    }

    #[test]
    fn the_default_limit_is_fifty() {
        assert_eq!(page("").map(|p| p.limit), Ok(DEFAULT_LIMIT));
    }

    #[test]
    fn a_limit_outside_one_to_two_hundred_is_refused() {
        for bad in ["0", "201", "-1", "ten", "1.5", ""] {
            assert_eq!(page(&format!("limit={bad}")).err().map(|p| p.status), Some(400), "{bad}");
        }
    }

    #[test]
    fn a_garbage_cursor_is_refused() {
        for bad in ["abc", "zz", &"g".repeat(48), "é"] {
            assert!(page(&format!("cursor={bad}")).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_full_page_carries_a_cursor_to_the_next() {
        let request = PageRequest { limit: 2, after: None };
        let at = DateTime::<Utc>::from_timestamp_micros(0).expect("epoch").naive_utc();
        let key = |n: &u128| Cursor { at, id: Uuid::from_u128(*n) };
        let full: serde_json::Value =
            serde_json::from_slice(&page_response(&request, vec![1u128, 2, 3], key).body).expect("json");
        assert_eq!(full["items"].as_array().map(Vec::len), Some(2));
        assert!(full["next_cursor"].is_string());
        let last: serde_json::Value =
            serde_json::from_slice(&page_response(&request, vec![1u128, 2], key).body).expect("json");
        assert!(last["next_cursor"].is_null());
    }
}
