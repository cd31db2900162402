//! Just enough XML reading for S3 list answers: find, count and unescape simple elements.

/// Text of the first `<tag>…</tag>`, entities unescaped.
pub fn first(doc: &str, tag: &str) -> Option<String> {
    all(doc, tag).into_iter().next().map(|s| unescape(&s))
}

/// Number of `<tag>` elements (open tags, with or without attributes).
pub fn count(doc: &str, tag: &str) -> usize {
    all(doc, tag).len()
}

/// Inner text of every `<tag>…</tag>` in document order, not unescaped.
pub fn all(doc: &str, tag: &str) -> Vec<String> {
    let open_plain = format!("<{tag}>");
    let open_attr = format!("<{tag} ");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = doc;
    loop {
        let start = match (rest.find(&open_plain), rest.find(&open_attr)) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => return out,
        };
        let after_open = match rest[start..].find('>') {
            Some(i) => start + i + 1,
            None => return out,
        };
        let Some(end) = rest[after_open..].find(&close) else {
            return out;
        };
        out.push(rest[after_open..after_open + end].to_owned());
        rest = &rest[after_open + end + close.len()..];
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_list_answer() {
        let doc = "<ListBucketResult><IsTruncated>true</IsTruncated>\
            <Contents><Key>a</Key></Contents><Contents><Key>b&amp;c</Key></Contents>\
            <NextContinuationToken>t&amp;1</NextContinuationToken></ListBucketResult>";
        assert_eq!(count(doc, "Contents"), 2);
        assert_eq!(first(doc, "IsTruncated").as_deref(), Some("true"));
        assert_eq!(first(doc, "NextContinuationToken").as_deref(), Some("t&1"));
        assert_eq!(all(doc, "Key"), vec!["a", "b&amp;c"]);
        assert_eq!(count("<VersioningConfiguration xmlns=\"x\"/>", "Status"), 0);
    }
}
