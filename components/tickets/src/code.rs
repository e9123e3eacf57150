//! Ticket codes: `TKT-XXXX-XXXX`, 40 bits from the platform's CSPRNG written in
//! Crockford base32, so a code cannot be guessed from the ones a buyer holds.

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh code from `wasi:random` (a cryptographically secure source by contract).
pub fn new_code() -> String {
    let bytes = wasi::random::random::get_random_bytes(5);
    encode(&bytes)
}

/// Writes 40 bits as `TKT-XXXX-XXXX`.
pub fn encode(bytes: &[u8]) -> String {
    let mut bits: u64 = 0;
    for byte in bytes.iter().take(5) {
        bits = (bits << 8) | u64::from(*byte);
    }
    let chars: Vec<char> = (0..8).rev().map(|i| CROCKFORD[((bits >> (i * 5)) & 31) as usize] as char).collect();
    format!("TKT-{}-{}", chars[..4].iter().collect::<String>(), chars[4..].iter().collect::<String>())
}

/// The 40 bits a normalized code writes; `None` if `code` is not one.
pub fn decode(code: &str) -> Option<[u8; 5]> {
    let body = code.strip_prefix("TKT-")?.replace('-', "");
    if body.len() != 8 {
        return None;
    }
    let mut bits: u64 = 0;
    for c in body.bytes() {
        bits = (bits << 5) | CROCKFORD.iter().position(|&d| d == c)? as u64;
    }
    let mut bytes = [0; 5];
    bytes.copy_from_slice(&bits.to_be_bytes()[3..]);
    Some(bytes)
}

/// Reads a code as a person may type it: any case, and Crockford's look-alikes
/// (`O` for 0, `I`/`L` for 1). `None` if it cannot be a code.
pub fn normalize(text: &str) -> Option<String> {
    let upper = text.trim().to_ascii_uppercase();
    let body = upper.strip_prefix("TKT-")?;
    let (first, second) = body.split_once('-')?;
    if first.len() != 4 || second.len() != 4 {
        return None;
    }
    let fix = |part: &str| -> Option<String> {
        part.chars()
            .map(|c| match c {
                'O' => Some('0'),
                'I' | 'L' => Some('1'),
                c if CROCKFORD.contains(&(c as u8)) && c.is_ascii() => Some(c),
                _ => None,
            })
            .collect()
    };
    Some(format!("TKT-{}-{}", fix(first)?, fix(second)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forty_bits_make_eight_crockford_characters() {
        assert_eq!(encode(&[0, 0, 0, 0, 0]), "TKT-0000-0000");
        assert_eq!(encode(&[0xff; 5]), "TKT-ZZZZ-ZZZZ");
        assert_eq!(encode(&[0, 0, 0, 0, 33]), "TKT-0000-0011");
    }

    #[test]
    fn decoding_gives_back_the_bits_encoded() {
        for bytes in [[0u8; 5], [0xff; 5], [1, 2, 3, 4, 5], [0x80, 0, 0x7f, 0x10, 0xfe]] {
            assert_eq!(decode(&encode(&bytes)), Some(bytes));
        }
        assert_eq!(decode("TKT-ABCD-EFG"), None);
        assert_eq!(decode("TKT-ABCD-EFGU"), None, "U is no Crockford digit");
    }

    #[test]
    fn codes_are_read_leniently() {
        assert_eq!(normalize("tkt-abcd-efgh").as_deref(), Some("TKT-ABCD-EFGH"));
        assert_eq!(normalize("TKT-O1IL-0000").as_deref(), Some("TKT-0111-0000"));
    }

    #[test]
    fn what_cannot_be_a_code_is_refused() {
        for bad in ["TKT-ABCD", "TKT-ABCD-EFGHI", "ABC-ABCD-EFGH", "TKT-ABCU-EFGH", "TKT-ÀBCD-EFGH", ""] {
            assert_eq!(normalize(bad), None, "{bad}");
        }
    }
}
