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
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = doc;
    // One forward scan: a single search for `<tag` and a look at the byte after it
    // (searching separately for `<tag>` and `<tag ` rescans the document per element).
    while let Some(start) = rest.find(&open) {
        let after_name = start + open.len();
        match rest.as_bytes().get(after_name) {
            Some(b'>') | Some(b' ') => {}
            _ => {
                rest = &rest[after_name..];
                continue;
            }
        }
        let Some(gt) = rest[after_name..].find('>') else {
            return out;
        };
        let after_open = after_name + gt + 1;
        let Some(end) = rest[after_open..].find(&close) else {
            return out;
        };
        out.push(rest[after_open..after_open + end].to_owned());
        rest = &rest[after_open + end + close.len()..];
    }
    out
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
        assert_eq!(all("<KeyCount>2</KeyCount><Key>k</Key>", "Key"), vec!["k"]);
        assert_eq!(
            all("<Version a=\"1\"><Key>v</Key></Version>", "Version"),
            vec!["<Key>v</Key>"]
        );
    }
}
