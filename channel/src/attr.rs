//! Typed per-channel attributes, one value per type (use a newtype for a second
//! value of the same type).

use std::any::{Any, TypeId};
use std::collections::HashMap;

/// Nothing allocated until the first attribute is set, and one pointer in the
/// channel until then (a `HashMap` is six words even when empty).
#[derive(Default)]
#[allow(clippy::box_collection)]
pub(crate) struct Attributes {
    map: Option<Box<HashMap<TypeId, Box<dyn Any>>>>,
}

impl Attributes {
    pub(crate) fn get<T: Any>(&self) -> Option<&T> {
        self.map.as_ref()?.get(&TypeId::of::<T>())?.downcast_ref()
    }

    pub(crate) fn get_mut<T: Any>(&mut self) -> Option<&mut T> {
        self.map
            .as_mut()?
            .get_mut(&TypeId::of::<T>())?
            .downcast_mut()
    }

    pub(crate) fn insert<T: Any>(&mut self, value: T) -> Option<T> {
        self.map
            .get_or_insert_with(Box::default)
            .insert(TypeId::of::<T>(), Box::new(value))
            .and_then(|old| old.downcast().ok().map(|b| *b))
    }

    pub(crate) fn remove<T: Any>(&mut self) -> Option<T> {
        self.map
            .as_mut()?
            .remove(&TypeId::of::<T>())
            .and_then(|old| old.downcast().ok().map(|b| *b))
    }
}
