//! Handler names, shared: every connection's pipeline names its handlers with the
//! same few strings ("codec", "handler", ...), so each loop thread keeps one copy
//! of each and slots hold a reference-counted pointer to it, instead of a small
//! allocation per handler per connection.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// A handler's name as a slot keeps it.
pub(crate) type Name = Arc<str>;

/// Distinct names kept per thread. Past this (a program that makes names on the
/// fly, one per connection), names are allocated per slot, as before, so the
/// table cannot grow without bound.
const MAX_NAMES: usize = 256;

thread_local! {
    static NAMES: RefCell<HashMap<Box<str>, Name>> = RefCell::new(HashMap::new());
}

/// The shared copy of `name` on this thread (made on first use).
pub(crate) fn intern(name: &str) -> Name {
    NAMES
        .try_with(|t| {
            let mut t = t.borrow_mut();
            if let Some(n) = t.get(name) {
                return n.clone();
            }
            let n: Name = Arc::from(name);
            if t.len() < MAX_NAMES {
                t.insert(name.into(), n.clone());
            }
            n
        })
        .unwrap_or_else(|_| Arc::from(name)) // during thread exit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_shared_and_the_table_is_bounded() {
        let a = intern("codec");
        let b = intern("codec");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(&*a, "codec");
        for i in 0..2 * MAX_NAMES {
            assert_eq!(&*intern(&format!("n{i}")), format!("n{i}"));
        }
        assert!(NAMES.with(|t| t.borrow().len()) <= MAX_NAMES);
        // Past the bound, names still come back right, just not shared.
        let x = intern("late-name");
        let y = intern("late-name");
        assert_eq!((&*x, &*y), ("late-name", "late-name"));
    }
}
