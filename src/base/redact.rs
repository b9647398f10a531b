//! `--redact`: AWS identifiers replaced with stable placeholders, so that output can be
//! pasted into tickets and CI logs. Account ids (`111122223333` -> `<account-1>`, the
//! key's owner `<owner-account-1>`), the resource part of ARNs (`role/Admin` ->
//! `role/<role-1>`), KMS key ids (UUID and `mrk-` forms), organization and OU ids and IAM
//! unique ids. The same value gets the same placeholder for the whole run; the table of
//! placeholders can be written for the user ([`Redactor::table`]). Text only: no file or
//! terminal access, so the same code serves every front end.

use regex::{Captures, Regex};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// Everything redacted, leftmost first; an ARN is taken whole before its parts.
fn pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            // An ARN: partition, service, region, account, resource.
            r"(?P<arn>arn:(?:aws|aws-cn|aws-us-gov|aws-iso[a-z-]*|\*):(?P<service>[A-Za-z0-9*-]*):[A-Za-z0-9*-]*:",
            r#"(?P<account>[0-9]{12}|\$\{[^}]*\}|[^:\s"]*):(?P<resource>[^\s,;'`"<>(){}\[\]\\]*[^\s,;'`"<>(){}\[\]\\.:])?)"#,
            r#"|(?P<uuid>(?-u:\b)[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?-u:\b))"#,
            r"|(?P<mrk>(?-u:\b)mrk-[0-9a-fA-F]{32}(?-u:\b))",
            r"|(?P<org>(?-u:\b)o-[a-z0-9]{10,32}(?-u:\b))",
            r"|(?P<ou>(?-u:\b)ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}(?-u:\b))",
            r"|(?P<uid>(?-u:\b)(?:AIDA|AROA|AIPA|ANPA|ANVA|ASIA|AKIA|AGPA)[A-Z0-9]{12,}(?-u:\b))",
            r"|(?P<digits>[0-9]+)",
        ))
        .expect("the redaction pattern compiles")
    })
}

/// Replaces identifiers with placeholders, remembering each for the run.
#[derive(Debug, Default)]
pub struct Redactor {
    /// Original value -> placeholder.
    seen: HashMap<String, String>,
    /// Placeholders in the order they were first given, with their values.
    order: Vec<(String, String)>,
    /// How many placeholders of each kind were given.
    counts: HashMap<String, usize>,
    /// Account ids that own the keys checked (marked `<owner-account-N>`).
    owners: HashSet<String>,
}

impl Redactor {
    /// A redactor that marks `owners` (account ids) as the keys' owners.
    pub fn new(owners: impl IntoIterator<Item = String>) -> Self {
        Redactor {
            owners: owners.into_iter().collect(),
            ..Default::default()
        }
    }

    /// Marks more account ids as the keys' owners (for values not yet given a placeholder).
    pub fn add_owners(&mut self, owners: impl IntoIterator<Item = String>) {
        self.owners.extend(owners);
    }

    /// The placeholder of `value`, of kind `kind` (`account`, `role`, `key`, ...).
    fn placeholder(&mut self, kind: &str, value: &str) -> String {
        if let Some(p) = self.seen.get(value) {
            return p.clone();
        }
        let kind = if kind == "account" && self.owners.contains(value) {
            "owner-account"
        } else {
            kind
        };
        let n = self.counts.entry(kind.to_string()).or_default();
        *n += 1;
        let p = format!("<{kind}-{n}>");
        self.seen.insert(value.to_string(), p.clone());
        self.order.push((p.clone(), value.to_string()));
        p
    }

    /// `text` with every identifier replaced.
    pub fn text(&mut self, text: &str) -> String {
        // Most text has no digit and no ARN: nothing to do.
        if !text
            .bytes()
            .any(|b| b.is_ascii_digit() || b == b'-' || b == b':')
        {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for c in pattern().captures_iter(text) {
            let whole = c.get(0).expect("a match has group 0");
            out.push_str(&text[last..whole.start()]);
            let replaced = self.one(&c);
            out.push_str(&replaced);
            last = whole.end();
        }
        out.push_str(&text[last..]);
        out
    }

    fn one(&mut self, c: &Captures) -> String {
        let whole = c.get(0).map_or("", |m| m.as_str());
        if c.name("arn").is_some() {
            return self.arn(c);
        }
        for (group, kind) in [
            ("uuid", "key"),
            ("mrk", "key"),
            ("org", "org"),
            ("ou", "ou"),
            ("uid", "principal-id"),
        ] {
            if c.name(group).is_some() {
                return self.placeholder(kind, whole);
            }
        }
        // A run of digits is an account id only when it is exactly twelve long.
        if whole.len() == 12 {
            self.placeholder("account", whole)
        } else {
            whole.to_string()
        }
    }

    /// An ARN with its account and resource parts replaced; the resource type, `root`
    /// and wildcards stay.
    fn arn(&mut self, c: &Captures) -> String {
        let whole = c.get(0).map_or("", |m| m.as_str());
        let account = c.name("account").map_or("", |m| m.as_str());
        let head_len = c
            .name("account")
            .map_or(0, |m| m.start() - c.get(0).map_or(0, |w| w.start()));
        let mut out = whole[..head_len].to_string();
        if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&self.placeholder("account", account));
        } else {
            out.push_str(&self.text(account));
        }
        out.push(':');
        match (c.name("resource").map(|m| m.as_str()), c.name("service")) {
            // S3 names a bucket and an object key, with no resource type.
            (Some(resource), Some(s)) if s.as_str() == "s3" => {
                let (bucket, key) = resource.split_once('/').unwrap_or((resource, ""));
                out.push_str(&self.keep_wildcard("bucket", bucket));
                if resource.contains('/') {
                    out.push('/');
                    out.push_str(&self.keep_wildcard("object", key));
                }
            }
            (Some(resource), _) => out.push_str(&self.resource(resource)),
            (None, _) => {}
        }
        out
    }

    /// A placeholder for `name`, unless it is empty or only a wildcard.
    fn keep_wildcard(&mut self, kind: &str, name: &str) -> String {
        if name.is_empty() || name == "*" {
            name.to_string()
        } else {
            self.placeholder(kind, name)
        }
    }

    /// The resource part of an ARN: `type/name` keeps its type; `assumed-role/R/S` gives
    /// a role and a session; a bare name is a resource.
    fn resource(&mut self, resource: &str) -> String {
        if resource == "root" || resource == "*" || resource.starts_with("${") {
            return resource.to_string();
        }
        let (kind, name) = match resource.split_once(['/', ':']) {
            Some((kind, name)) => (Some(kind), name),
            None => (None, resource),
        };
        let Some(kind) = kind else {
            return self.placeholder("resource", name);
        };
        let sep = &resource[kind.len()..=kind.len()];
        if name == "*" || name.is_empty() {
            return resource.to_string();
        }
        if kind == "assumed-role" {
            if let Some((role, session)) = name.split_once('/') {
                let role = self.placeholder("role", role);
                let session = self.placeholder("session", session);
                return format!("{kind}{sep}{role}/{session}");
            }
        }
        let placeholder = if kind == "key" {
            // The key id pattern gives the same placeholder as the id alone.
            self.placeholder("key", name)
        } else {
            let label = if kind.is_empty()
                || !kind
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
            {
                "resource"
            } else {
                kind
            };
            self.placeholder(label, name)
        };
        format!("{kind}{sep}{placeholder}")
    }

    /// Every string and object key of `value` redacted in place.
    pub fn value(&mut self, value: &mut Value) {
        match value {
            Value::String(s) => *s = self.text(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.value(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (k, mut v) in entries {
                    self.value(&mut v);
                    map.insert(self.text(&k), v);
                }
            }
            _ => {}
        }
    }

    /// Placeholders in the order they were given, with the values they stand for.
    pub fn table(&self) -> &[(String, String)] {
        &self.order
    }

    /// The table as a JSON document for `--redact-map`: `{"<account-1>": "111122223333"}`,
    /// in the order the placeholders were given.
    pub fn table_json(&self) -> String {
        let mut out = String::from("{\n");
        for (i, (placeholder, value)) in self.order.iter().enumerate() {
            let sep = if i + 1 == self.order.len() { "" } else { "," };
            out.push_str(&format!(
                "  {}: {}{sep}\n",
                Value::from(placeholder.as_str()),
                Value::from(value.as_str())
            ));
        }
        out.push_str("}\n");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_arns_and_ids_get_stable_placeholders() {
        let mut r = Redactor::new(["111122223333".to_string()]);
        assert_eq!(
            r.text("arn:aws:iam::111122223333:root and arn:aws:iam::444455556666:role/ops/Admin"),
            "arn:aws:iam::<owner-account-1>:root and arn:aws:iam::<account-1>:role/<role-1>"
        );
        assert_eq!(r.text("account 444455556666."), "account <account-1>.");
        assert_eq!(
            r.text("arn:aws:kms:us-east-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
            "arn:aws:kms:us-east-1:<account-1>:key/<key-1>"
        );
        assert_eq!(
            r.text(
                "key 1234abcd-12ab-34cd-56ef-1234567890ab, mrk-1234abcd12ab34cd56ef1234567890ab"
            ),
            "key <key-1>, <key-2>"
        );
        assert_eq!(
            r.text("o-a1b2c3d4e5 ou-ab12-cd34ef56 AROAEXAMPLEID12345678"),
            "<org-1> <ou-1> <principal-id-1>"
        );
        assert_eq!(
            r.text("arn:aws:sts::444455556666:assumed-role/Deploy/ci-42"),
            "arn:aws:sts::<account-1>:assumed-role/<role-2>/<session-1>"
        );
        assert_eq!(
            r.text("arn:aws:s3:::my-bucket/*"),
            "arn:aws:s3:::<bucket-1>/*"
        );
        assert_eq!(
            r.text("arn:aws:sns:us-east-1:444455556666:alerts."),
            "arn:aws:sns:us-east-1:<account-1>:<resource-1>."
        );
        assert_eq!(
            r.text(r#"{"AWS": "arn:aws:iam::444455556666:root"}"#),
            r#"{"AWS": "arn:aws:iam::<account-1>:root"}"#
        );
    }

    #[test]
    fn other_text_is_unchanged() {
        let mut r = Redactor::default();
        for text in [
            "Statement 1 allows kms:* to *",
            "1234567890123 and 12345678901",
            "arn:aws:iam::*:root",
            "arn:aws:iam::${AWS::AccountId}:root",
            "no-placeholder-here",
            "kms.amazonaws.com",
        ] {
            assert_eq!(r.text(text), text);
        }
        assert!(r.table().is_empty());
    }

    #[test]
    fn json_values_and_the_table() {
        let mut r = Redactor::default();
        let mut v = serde_json::json!({"111122223333": ["arn:aws:iam::111122223333:user/bob", 1]});
        r.value(&mut v);
        assert_eq!(
            v,
            serde_json::json!({"<account-1>": ["arn:aws:iam::<account-1>:user/<user-1>", 1]})
        );
        assert_eq!(
            r.table_json(),
            "{\n  \"<account-1>\": \"111122223333\",\n  \"<user-1>\": \"bob\"\n}\n"
        );
    }
}
