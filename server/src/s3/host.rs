//! Virtual-host addressing (`bucket.<domain>`) beside path style.

use s3s::S3Result;
use s3s::host::{S3Host, VirtualHost};

/// Unlike s3s's `SingleDomain`, a Host that is not under the configured
/// domain (`localhost:9000`, an IP, another name) means path style instead of
/// being taken as a bucket name.
#[derive(Debug, Clone)]
pub struct DomainHost {
    domain: String,
}

impl DomainHost {
    pub fn new(domain: &str) -> Self {
        DomainHost {
            domain: domain.trim_end_matches('.').to_ascii_lowercase(),
        }
    }

    /// The bucket a Host header names, if any.
    pub fn bucket_of<'a>(&self, host: &'a str) -> Option<&'a str> {
        let name = strip_port(host);
        let prefix_len = name.len().checked_sub(self.domain.len() + 1)?;
        let (bucket, rest) = name.split_at(prefix_len);
        let rest = rest.strip_prefix('.')?;
        (rest.eq_ignore_ascii_case(&self.domain) && !bucket.is_empty()).then_some(bucket)
    }
}

fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port)) if !h.ends_with(']') && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

impl S3Host for DomainHost {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        Ok(match self.bucket_of(host) {
            Some(bucket) => VirtualHost::new(self.domain.as_str()).with_bucket(bucket),
            None => VirtualHost::new(host),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_subdomains_and_path_style_hosts() {
        let h = DomainHost::new("s3.example.com");
        assert_eq!(h.bucket_of("backups.s3.example.com"), Some("backups"));
        assert_eq!(h.bucket_of("backups.s3.example.com:9000"), Some("backups"));
        assert_eq!(
            h.bucket_of("my.dotted.bucket.s3.example.com"),
            Some("my.dotted.bucket")
        );
        assert_eq!(h.bucket_of("s3.example.com"), None);
        assert_eq!(h.bucket_of("s3.example.com:9000"), None);
        assert_eq!(h.bucket_of("localhost:9000"), None);
        assert_eq!(h.bucket_of("127.0.0.1:9000"), None);
        assert_eq!(h.bucket_of("evil-s3.example.com"), None);
        assert_eq!(h.bucket_of(".s3.example.com"), None);
    }
}
