//! The HTML page listing a directory: names sorted, HTML-escaped in the text and
//! percent-encoded in the links, directories with a trailing `/`.

use std::path::Path;

/// The page for directory `dir`, shown at URL path `url` (decoded); `None` if the
/// directory cannot be read.
pub(crate) fn page(dir: &Path, url: &[u8]) -> Option<String> {
    let mut entries: Vec<(String, bool)> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| {
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            (e.file_name().to_string_lossy().into_owned(), is_dir)
        })
        .collect();
    entries.sort();
    Some(render(&String::from_utf8_lossy(url), &entries))
}

/// The page for `entries` (name, is a directory) under the title `url`.
fn render(url: &str, entries: &[(String, bool)]) -> String {
    let title = html_escape(url);
    let mut page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of {title}</title></head>\n\
         <body><h1>Index of {title}</h1>\n<ul>\n<li><a href=\"../\">../</a></li>\n"
    );
    for (name, is_dir) in entries {
        let slash = if *is_dir { "/" } else { "" };
        page.push_str(&format!(
            "<li><a href=\"{}{slash}\">{}{slash}</a></li>\n",
            percent_encode(name),
            html_escape(name)
        ));
    }
    page.push_str("</ul></body></html>\n");
    page
}

/// Every byte but the unreserved ones (RFC 3986 §2.3) as `%XX`.
pub(crate) fn percent_encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `&`, `<`, `>`, `"` and `'` as character references.
pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_in_text_and_encoded_in_links() {
        let entries = vec![
            ("a&b.txt".to_string(), false),
            ("<script>\"'".to_string(), false),
            ("sub dir".to_string(), true),
        ];
        let page = render("/x<y>/", &entries);
        assert!(
            page.contains("<title>Index of /x&lt;y&gt;/</title>"),
            "{page}"
        );
        assert!(
            page.contains("<a href=\"a%26b.txt\">a&amp;b.txt</a>"),
            "{page}"
        );
        assert!(
            page.contains("<a href=\"%3Cscript%3E%22%27\">&lt;script&gt;&quot;&#39;</a>"),
            "{page}"
        );
        assert!(
            page.contains("<a href=\"sub%20dir/\">sub dir/</a>"),
            "{page}"
        );
        assert!(!page.contains("<script>"));
    }

    #[test]
    fn a_directory_is_listed_sorted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b"), b"").unwrap();
        std::fs::write(dir.path().join("a"), b"").unwrap();
        std::fs::create_dir(dir.path().join("c")).unwrap();
        let page = page(dir.path(), b"/d/").unwrap();
        let a = page.find(">a<").unwrap();
        let b = page.find(">b<").unwrap();
        let c = page.find(">c/<").unwrap();
        assert!(a < b && b < c, "{page}");
        assert!(super::page(&dir.path().join("missing"), b"/").is_none());
    }
}
