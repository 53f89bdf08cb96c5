//! seine-channel.
