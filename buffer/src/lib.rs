//! seine-buffer.
