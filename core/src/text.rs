//! Bounded text: appending to a fixed-capacity string, cutting at a character boundary.

use heapless::String;

/// Appends `s` to `out`, keeping as much of it as fits at a UTF-8 character boundary.
///
/// Returns `true` when everything fitted and `false` when `s` was cut (the kept part
/// is always a prefix of what was offered). Never panics.
pub fn push_truncating<const N: usize>(out: &mut String<N>, s: &str) -> bool {
    let room = N - out.len();
    if s.len() <= room {
        // Cannot fail: checked above.
        let _ = out.push_str(s);
        return true;
    }
    let mut cut = room;
    while cut > 0 && !s.is_char_boundary(cut) {
        cut -= 1;
    }
    if let Some(head) = s.get(..cut) {
        let _ = out.push_str(head);
    }
    false
}

/// Builds a bounded string from `s`, cut at a character boundary if it does not fit.
///
/// Returns the string and whether it was cut.
pub fn bounded<const N: usize>(s: &str) -> (String<N>, bool) {
    let mut out = String::new();
    let fitted = push_truncating(&mut out, s);
    (out, !fitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_at_char_boundary() {
        // (input, capacity 5) -> (kept, fitted)
        let table: &[(&str, &str, bool)] = &[
            ("abc", "abc", true),
            ("abcde", "abcde", true),
            ("abcdef", "abcde", false),
            ("ab日本", "ab日", false), // 日 is 3 bytes: 2 + 3 = 5
            ("abc日", "abc", false),   // 3 + 3 > 5
            ("日本語", "日", false),
            ("😀xy", "😀x", false),
        ];
        for &(input, kept, fitted) in table {
            let mut s: String<5> = String::new();
            assert_eq!(push_truncating(&mut s, input), fitted, "{input}");
            assert_eq!(s.as_str(), kept, "{input}");
            assert!(input.starts_with(s.as_str()));
        }
    }

    #[test]
    fn appends_after_existing_content() {
        let mut s: String<4> = String::new();
        assert!(push_truncating(&mut s, "ab"));
        assert!(!push_truncating(&mut s, "cé"));
        assert_eq!(s.as_str(), "abc");
        assert!(push_truncating(&mut s, "d"));
        assert_eq!(s.as_str(), "abcd");
        assert!(!push_truncating(&mut s, "e"));
        assert_eq!(s.as_str(), "abcd");
    }
}
