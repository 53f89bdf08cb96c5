//! Incremental UTF-8 validation of a text message that arrives in fragments.

/// Validates a growing buffer: each call checks only the bytes added since the
/// last, keeping an incomplete character at the end for the next fragment.
#[derive(Debug, Default, Clone)]
pub(crate) struct Utf8Validator {
    /// Bytes of the buffer known to be complete, valid UTF-8.
    valid: usize,
}

impl Utf8Validator {
    /// Checks `buf[self.valid..]`. `Ok` when it is valid so far (an incomplete
    /// character may end it unless `last`); `Err` at the first invalid byte.
    pub(crate) fn feed(&mut self, buf: &[u8], last: bool) -> Result<(), ()> {
        let rest = buf.get(self.valid..).unwrap_or_default();
        match std::str::from_utf8(rest) {
            Ok(_) => {
                self.valid = buf.len();
                Ok(())
            }
            Err(e) => {
                self.valid += e.valid_up_to();
                // `error_len() == None`: the input ends inside a character that
                // may complete with the next fragment.
                if e.error_len().is_none() && !last {
                    Ok(())
                } else {
                    Err(())
                }
            }
        }
    }

    /// Starts a new message.
    pub(crate) fn reset(&mut self) {
        self.valid = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_across_fragments_is_valid() {
        let text = "h\u{e9}\u{20ac}\u{1f600}".as_bytes();
        for cut in 0..=text.len() {
            let mut v = Utf8Validator::default();
            assert_eq!(v.feed(&text[..cut], false), Ok(()), "cut {cut}");
            assert_eq!(v.feed(text, true), Ok(()), "cut {cut}");
        }
    }

    #[test]
    fn an_invalid_byte_fails_as_soon_as_it_arrives() {
        let mut v = Utf8Validator::default();
        let mut buf = b"ok".to_vec();
        assert_eq!(v.feed(&buf, false), Ok(()));
        buf.extend_from_slice(&[0xce]); // first byte of a 2-byte character
        assert_eq!(v.feed(&buf, false), Ok(()));
        buf.push(b'x'); // not a continuation byte
        assert_eq!(v.feed(&buf, false), Err(()));
    }

    #[test]
    fn an_incomplete_character_at_the_end_of_the_message_fails() {
        let mut v = Utf8Validator::default();
        assert_eq!(v.feed(&[b'a', 0xe2, 0x82], false), Ok(()));
        assert_eq!(v.feed(&[b'a', 0xe2, 0x82], true), Err(()));
    }
}
