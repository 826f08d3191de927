//! A bounded string that never shows itself in `Debug` output.

use core::fmt;

use heapless::String;

/// A token or client secret: a bounded string whose `Debug` prints only its length, so it
/// cannot leak into logs, panics or error messages by accident. Read it with
/// [`Secret::expose`] where it must go on the wire or to storage.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<const N: usize>(String<N>);

impl<const N: usize> Secret<N> {
    /// Wraps `s`; `None` if it is longer than `N` bytes (a cut secret is worthless).
    pub fn new(s: &str) -> Option<Self> {
        let mut out = String::new();
        out.push_str(s).ok()?;
        Some(Secret(out))
    }

    /// The secret itself.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Mutable access for the parser, which fills it in pieces.
    pub(crate) fn inner_mut(&mut self) -> &mut String<N> {
        &mut self.0
    }
}

impl<const N: usize> fmt::Debug for Secret<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes redacted>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::format;

    #[test]
    fn debug_never_shows_the_value() {
        let s: Secret<16> = Secret::new("hunter2").unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("7 bytes"));
        assert_eq!(s.expose(), "hunter2");
        assert!(Secret::<4>::new("toolong").is_none());
    }
}
