//! seine-transport.
