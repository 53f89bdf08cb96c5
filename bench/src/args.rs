//! A minimal `--name value` / `--flag` argument parser (no dependency, no magic).

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

/// Parsed command line: `--key value` pairs, bare `--flag`s, and everything after `--`.
#[derive(Debug, Default)]
pub struct Args {
    values: HashMap<String, String>,
    flags: Vec<String>,
    /// Arguments after a literal `--`.
    pub rest: Vec<String>,
    known_flags: &'static [&'static str],
}

impl Args {
    /// Parses `std::env::args()`. `flags` names the options that take no value.
    pub fn from_env(flags: &'static [&'static str]) -> Result<Args, String> {
        Self::parse(std::env::args().skip(1), flags)
    }

    /// Parses an argument list (without the program name).
    pub fn parse<I: IntoIterator<Item = String>>(
        it: I,
        flags: &'static [&'static str],
    ) -> Result<Args, String> {
        let mut args = Args {
            known_flags: flags,
            ..Args::default()
        };
        let mut it = it.into_iter();
        while let Some(a) = it.next() {
            if a == "--" {
                args.rest.extend(it.by_ref());
                break;
            }
            let Some(name) = a.strip_prefix("--") else {
                return Err(format!("unexpected argument {a:?}"));
            };
            if let Some((k, v)) = name.split_once('=') {
                args.values.insert(k.to_string(), v.to_string());
            } else if flags.contains(&name) {
                args.flags.push(name.to_string());
            } else {
                let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
                args.values.insert(name.to_string(), v);
            }
        }
        Ok(args)
    }

    /// True when the bare flag `--name` was given.
    pub fn flag(&self, name: &str) -> bool {
        debug_assert!(self.known_flags.contains(&name));
        self.flags.iter().any(|f| f == name)
    }

    /// The raw value of `--name`, if given.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The value of `--name` parsed as `T`, or `default`.
    pub fn get<T>(&self, name: &str, default: T) -> Result<T, String>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.values.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|e| format!("--{name} {v:?}: {e}")),
        }
    }

    /// Names given that are not in `known` (values and flags), for typo detection.
    pub fn unknown(&self, known: &[&str]) -> Vec<String> {
        self.values
            .keys()
            .chain(self.flags.iter())
            .filter(|k| !known.contains(&k.as_str()) && !self.known_flags.contains(&k.as_str()))
            .cloned()
            .collect()
    }
}

/// Parses a size such as `64`, `4k`, `4KiB`, `1m`, `1MiB`, `1g` (powers of 1024).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let (num, mult) = [
        ("gib", 1usize << 30),
        ("mib", 1 << 20),
        ("kib", 1 << 10),
        ("g", 1 << 30),
        ("m", 1 << 20),
        ("k", 1 << 10),
        ("b", 1),
    ]
    .iter()
    .find_map(|(suf, m)| lower.strip_suffix(suf).map(|n| (n.to_string(), *m)))
    .unwrap_or((lower.clone(), 1));
    let n: usize = num.trim().parse().map_err(|e| format!("size {s:?}: {e}"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("size {s:?} overflows"))
}

/// Prints `msg` and the usage to stderr, then exits with status 2.
pub fn die(msg: &str, usage: &str) -> ! {
    eprintln!("error: {msg}\n\n{usage}");
    std::process::exit(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_values_flags_and_rest() {
        let a = Args::parse(
            ["--conns", "8", "--json", "--size=4k", "--", "curl", "-s"].map(String::from),
            &["json"],
        )
        .unwrap();
        assert_eq!(a.get("conns", 1usize).unwrap(), 8);
        assert!(a.flag("json"));
        assert_eq!(parse_size(a.str("size").unwrap()).unwrap(), 4096);
        assert_eq!(a.rest, ["curl", "-s"]);
        assert!(a.unknown(&["conns", "size"]).is_empty());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64").unwrap(), 64);
        assert_eq!(parse_size("1MiB").unwrap(), 1 << 20);
        assert_eq!(parse_size("1g").unwrap(), 1 << 30);
        assert!(parse_size("x").is_err());
    }
}
