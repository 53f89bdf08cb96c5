//! The flags every server example takes, for `#[command(flatten)]`.

use seine::transport::EventLoopGroup;

/// `--addr HOST:PORT` (default `127.0.0.1:PORT`) and `--threads N`.
#[derive(clap::Args, Clone, Debug)]
pub struct ServerArgs<const PORT: u16> {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, value_name = "HOST:PORT", default_value_t = format!("127.0.0.1:{PORT}"))]
    pub addr: String,

    /// Event loops, one thread each (0 counts as 1; default: the CPUs this process
    /// may run on).
    #[arg(long, value_name = "N", default_value_t = EventLoopGroup::default_threads())]
    threads: usize,
}

impl<const PORT: u16> ServerArgs<PORT> {
    /// `--threads`, at least 1.
    pub fn threads(&self) -> usize {
        self.threads.max(1)
    }
}
