//! Every file path a doc comment or a Markdown page cites in backquotes (such as
//! `transport/examples/accept_rate.rs`) exists, relative to the repository root
//! (or to the citing file's folder): a reader finds it from the top.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "corpus" && name != "artifacts"
            {
                files(&path, out);
            }
        } else if name.ends_with(".rs") || name.ends_with(".md") {
            out.push(path);
        }
    }
}

/// The backquoted paths in `text`: a `/`, a known extension, no spaces.
fn cited(text: &str) -> Vec<&str> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            s.contains('/')
                && !s.contains(' ')
                && !s.starts_with('/')
                && !s.contains("://")
                && !s.contains('*')
                && [".rs", ".sh", ".md", ".toml"]
                    .iter()
                    .any(|e| s.ends_with(e))
        })
        .collect()
}

#[test]
fn every_cited_path_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    files(root, &mut all);
    assert!(all.len() > 50, "found {} files", all.len());
    let mut missing = Vec::new();
    for file in &all {
        let text = std::fs::read_to_string(file).unwrap();
        for path in cited(&text) {
            let bases = [root.to_path_buf(), file.parent().unwrap().to_path_buf()];
            if !bases.iter().any(|b| b.join(path).exists()) {
                missing.push(format!(
                    "{}: `{path}`",
                    file.strip_prefix(root).unwrap().display()
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "cited paths that do not exist:\n{}",
        missing.join("\n")
    );
}
