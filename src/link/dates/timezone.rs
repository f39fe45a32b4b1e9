//! `--timezone` values.

use chrono::FixedOffset;

/// Parses `--timezone` values: `+03:00`, `-0430`, `+3`, `UTC`, `Z`.
pub fn parse_offset(text: &str) -> Option<FixedOffset> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") {
        return FixedOffset::east_opt(0);
    }
    let (sign, rest) = match t.as_bytes().first()? {
        b'+' => (1, &t[1..]),
        b'-' => (-1, &t[1..]),
        _ => return None,
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h.parse::<i32>().ok()?, m.parse::<i32>().ok()?),
        None if rest.len() == 4 => (rest[..2].parse().ok()?, rest[2..].parse().ok()?),
        None if rest.len() <= 2 => (rest.parse().ok()?, 0),
        None => return None,
    };
    if h > 14 || m >= 60 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// `--timezone` as the command line reads it: [`parse_offset`], or a sentence saying how
/// to write one.
pub fn parse_timezone(text: &str) -> Result<FixedOffset, String> {
    parse_offset(text)
        .ok_or_else(|| format!("`{text}` is not a UTC offset; write it like +03:00, -0430 or UTC"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timezone_is_an_offset_in_any_common_spelling() {
        let east = |s: i32| FixedOffset::east_opt(s).expect("valid offset");
        assert_eq!(parse_timezone("+03:00"), Ok(east(3 * 3600)));
        assert_eq!(parse_timezone("-0430"), Ok(east(-(4 * 3600 + 30 * 60))));
        assert_eq!(parse_timezone("+5"), Ok(east(5 * 3600)));
        assert_eq!(parse_timezone("UTC"), Ok(east(0)));
        assert_eq!(parse_timezone("z"), Ok(east(0)));
        for bad in ["03:00", "+15:00", "+03:60", "+030", "Europe/Kyiv", ""] {
            let err = parse_timezone(bad).expect_err(bad);
            assert!(err.contains("is not a UTC offset"), "{bad}: {err}");
        }
    }
}
