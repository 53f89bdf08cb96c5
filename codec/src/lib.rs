//! seine-codec.
