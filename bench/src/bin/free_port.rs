//! Prints a TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it back,
//! close). For `bench/run.sh`, which passes it to servers that need an explicit port.

fn main() {
    match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(a) => println!("{}", a.port()),
        Err(e) => {
            eprintln!("free_port: {e}");
            std::process::exit(1);
        }
    }
}
