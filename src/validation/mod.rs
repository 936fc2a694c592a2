//! Validated values shared by the browser and the server. The browser runs these functions as
//! the user types; the server runs the same functions as the authority. A value of one of these
//! types cannot hold invalid data.

mod password_limits;
pub use password_limits::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};

mod common {
    include!(concat!(env!("OUT_DIR"), "/common_passwords.rs"));
}

use crate::error::FieldErrors;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A form field, declared once: the name it is posted under (which is also the key of its
/// messages), and its rule (with its limits). The browser runs the rule as the user types, the
/// server runs it as the authority.
pub struct Field<T: 'static> {
    pub name: &'static str,
    pub rule: fn(&str) -> Result<T, String>,
}

impl<T> Field<T> {
    pub const fn new(name: &'static str, rule: fn(&str) -> Result<T, String>) -> Self {
        Self { name, rule }
    }

    pub fn check(&self, raw: &str) -> Result<T, String> {
        (self.rule)(raw)
    }

    /// The rule's message for `raw`, if it breaks the rule.
    pub fn message(&self, raw: &str) -> Option<String> {
        self.check(raw).err()
    }

    /// The valid value, or `None` with the message recorded under the field's name.
    pub fn take(&self, errors: &mut FieldErrors, raw: &str) -> Option<T> {
        errors.take(self.name, self.check(raw))
    }
}

pub const EMAIL_MAX_CHARS: usize = 254;
pub const NAME_MAX_CHARS: usize = 100;
pub const DESCRIPTION_MAX_CHARS: usize = 1000;

/// An e-mail address as the user typed it (trimmed). Addresses compare case-insensitively:
/// use [`Email::normalized`] for look-ups and uniqueness. Deserialising one runs
/// [`Email::parse`], so no invalid address can arrive as an `Email`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl TryFrom<String> for Email {
    type Error = String;

    fn try_from(raw: String) -> Result<Self, String> {
        Email::parse(&raw)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim();
        if value.is_empty() {
            return Err("Enter an e-mail address.".into());
        }
        if value.chars().count() > EMAIL_MAX_CHARS {
            return Err(format!("Use at most {EMAIL_MAX_CHARS} characters."));
        }
        if !looks_like_email(value) {
            return Err("Enter a valid e-mail address, like name@example.com.".into());
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address lower-cased, for comparing addresses in memory (the database folds them
    /// with its own `lower()` for look-ups and uniqueness).
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn looks_like_email(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.chars().count() >= 2);
    local_ok && domain_ok
}

/// A new password that satisfies SPEC 1.7. It is never serialised and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Checks the policy: length in characters (no truncation), not a common password, not the
    /// user's own e-mail address.
    pub fn parse(raw: &str, email: Option<&str>) -> Result<Self, String> {
        let checks = PasswordChecks::of(raw, email);
        if checks.chars == 0 {
            return Err("Enter a password.".into());
        }
        if !checks.long_enough {
            return Err(format!("Use at least {PASSWORD_MIN_CHARS} characters ({} so far).", checks.chars));
        }
        if !checks.short_enough {
            return Err(format!("Use at most {PASSWORD_MAX_CHARS} characters."));
        }
        if !checks.not_email {
            return Err("Your password must not be your e-mail address.".into());
        }
        if !checks.not_common {
            return Err("This is one of the most common passwords. Choose another.".into());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Each rule of the password policy on its own, for the checklist shown while typing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PasswordChecks {
    pub chars: usize,
    pub long_enough: bool,
    pub short_enough: bool,
    pub not_common: bool,
    pub not_email: bool,
}

impl PasswordChecks {
    pub fn of(raw: &str, email: Option<&str>) -> Self {
        let chars = raw.chars().count();
        let lowered = raw.to_lowercase();
        Self {
            chars,
            long_enough: chars >= PASSWORD_MIN_CHARS,
            short_enough: chars <= PASSWORD_MAX_CHARS,
            not_common: common::COMMON_PASSWORDS.binary_search(&lowered.as_str()).is_err(),
            not_email: !email.is_some_and(|e| !e.trim().is_empty() && e.trim().to_lowercase() == lowered),
        }
    }
}

/// Checks that the confirmation repeats the password.
pub fn confirm_matches(password: &str, confirmation: &str) -> Result<(), String> {
    if confirmation.is_empty() {
        Err("Type the password again.".into())
    } else if password != confirmation {
        Err("The two passwords do not match.".into())
    } else {
        Ok(())
    }
}

/// A required single-line text: trimmed, not empty, at most `max` characters, no control
/// characters.
pub fn required_text(raw: &str, what: &str, max: usize) -> Result<String, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(format!("Enter {what}."));
    }
    single_line(value, max)
}

/// An optional single-line text: empty becomes `None`.
pub fn optional_text(raw: &str, max: usize) -> Result<Option<String>, String> {
    let value = raw.trim();
    if value.is_empty() {
        Ok(None)
    } else {
        single_line(value, max).map(Some)
    }
}

/// An optional multi-line text (descriptions): line breaks allowed, other controls refused.
pub fn optional_long_text(raw: &str, max: usize) -> Result<Option<String>, String> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > max {
        return Err(format!("Use at most {max} characters."));
    }
    if value.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err("Remove the control characters.".into());
    }
    Ok(Some(value.to_owned()))
}

fn single_line(value: &str, max: usize) -> Result<String, String> {
    if value.chars().count() > max {
        return Err(format!("Use at most {max} characters."));
    }
    if value.chars().any(char::is_control) {
        return Err("Use a single line without control characters.".into());
    }
    Ok(value.to_owned())
}

/// An optional mobile phone number in E.164 form. Spaces, dashes, dots and brackets the user
/// types for readability are removed.
pub fn optional_phone(raw: &str) -> Result<Option<String>, String> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    if compact.is_empty() {
        return Ok(None);
    }
    let digits = compact.strip_prefix('+').unwrap_or("");
    let valid = (8..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    if valid {
        Ok(Some(compact))
    } else {
        Err("Enter the number in international form, like +44 20 7946 0958.".into())
    }
}

/// Regions a user can be placed in (SPEC 3.3 "region (from a list)").
pub const REGIONS: &[&str] = &[
    "Africa",
    "Asia Pacific",
    "Europe",
    "Latin America",
    "Middle East",
    "North America",
];

pub fn optional_region(raw: &str) -> Result<Option<String>, String> {
    let value = raw.trim();
    if value.is_empty() {
        Ok(None)
    } else if let Some(region) = REGIONS.iter().find(|r| **r == value) {
        Ok(Some((*region).to_owned()))
    } else {
        Err("Choose a region from the list.".into())
    }
}

/// Interface languages a user can prefer; the code is stored.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", "English"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("fr", "Français"),
    ("it", "Italiano"),
    ("nl", "Nederlands"),
    ("pt", "Português"),
];

pub fn language(raw: &str) -> Result<String, String> {
    LANGUAGES
        .iter()
        .find(|(code, _)| *code == raw.trim())
        .map(|(code, _)| (*code).to_owned())
        .ok_or_else(|| "Choose a language from the list.".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_cannot_be_deserialised_without_its_rule() {
        let good: Email = serde_json::from_str("\" Ada@Acme.test \"").unwrap();
        assert_eq!(good.as_str(), "Ada@Acme.test");
        assert!(serde_json::from_str::<Email>("\"not-an-address\"").is_err());
        assert!(serde_json::from_str::<Email>("\"\"").is_err());
        assert_eq!(serde_json::to_string(&good).unwrap(), "\"Ada@Acme.test\"");
    }

    #[test]
    fn a_field_names_its_message() {
        const NAME: Field<String> = Field::new("form[name]", |raw| required_text(raw, "a name", 5));
        let mut errors = FieldErrors::default();
        assert_eq!(NAME.take(&mut errors, " Ada "), Some("Ada".to_owned()));
        assert_eq!(NAME.take(&mut errors, "Adalbert"), None);
        assert_eq!(errors.get("form[name]"), Some("Use at most 5 characters."));
        assert_eq!(NAME.message(""), Some("Enter a name.".to_owned()));
    }

    #[test]
    fn email_accepts_ordinary_addresses_and_keeps_case() {
        let email = Email::parse("  Ada.Lovelace+work@Example.co.uk ").unwrap();
        assert_eq!(email.as_str(), "Ada.Lovelace+work@Example.co.uk");
        assert_eq!(email.normalized(), "ada.lovelace+work@example.co.uk");
    }

    #[test]
    fn email_refuses_empty_malformed_and_overlong() {
        assert_eq!(Email::parse("  ").unwrap_err(), "Enter an e-mail address.");
        for bad in ["ada", "ada@", "@example.com", "ada@example", "a b@example.com",
            "ada@@example.com", "ada@example..com", "ada@-example.com", ".ada@example.com",
            "ada@example.c"]
        {
            assert!(Email::parse(bad).unwrap_err().starts_with("Enter a valid"), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long).unwrap_err(), "Use at most 254 characters.");
    }

    #[test]
    fn password_length_counts_characters_not_bytes() {
        assert!(Password::parse("ünïcödé-pässwörd", None).is_ok());
        assert_eq!(
            Password::parse("short-pass", None).unwrap_err(),
            "Use at least 12 characters (10 so far)."
        );
        assert_eq!(Password::parse("", None).unwrap_err(), "Enter a password.");
        assert!(Password::parse(&"x".repeat(128), None).is_ok());
        assert_eq!(
            Password::parse(&"x".repeat(129), None).unwrap_err(),
            "Use at most 128 characters."
        );
    }

    #[test]
    fn password_allows_64_characters_and_keeps_them_all() {
        let long = "correct horse battery staple ".repeat(3);
        let parsed = Password::parse(&long[..64], None).unwrap();
        assert_eq!(parsed.expose().len(), 64);
    }

    #[test]
    fn password_refuses_common_ones_case_insensitively() {
        for common in ["qwerty123456", "QWERTY123456", "1qaz2wsx3edc", "leavemealone"] {
            assert!(Password::parse(common, None).unwrap_err().contains("most common"), "{common}");
        }
        assert!(Password::parse("violet-kettle-onward", None).is_ok());
    }

    #[test]
    fn the_bundled_list_holds_ten_thousand_entries_and_the_long_ones_are_compiled_in() {
        let source = include_str!("common-passwords.txt");
        assert_eq!(source.lines().count(), 10_000);
        let long = source.lines().filter(|l| l.chars().count() >= PASSWORD_MIN_CHARS).count();
        assert!(long > 0);
        assert!(common::COMMON_PASSWORDS.len() <= long);
        assert!(common::COMMON_PASSWORDS.windows(2).all(|w| w[0] < w[1]), "sorted for search");
    }

    #[test]
    fn password_refuses_the_users_email() {
        let err = Password::parse("Ada@Example.com", Some("ada@example.com")).unwrap_err();
        assert!(err.contains("e-mail"));
    }

    #[test]
    fn password_debug_never_shows_the_secret() {
        let p = Password::parse("violet-kettle-onward", None).unwrap();
        assert!(!format!("{p:?}").contains("violet"));
    }

    #[test]
    fn confirmation_must_repeat_the_password() {
        assert!(confirm_matches("abc", "abc").is_ok());
        assert_eq!(confirm_matches("abc", "").unwrap_err(), "Type the password again.");
        assert_eq!(confirm_matches("abc", "abd").unwrap_err(), "The two passwords do not match.");
    }

    #[test]
    fn text_rules_trim_limit_and_refuse_control_characters() {
        assert_eq!(required_text("  Acme  ", "a name", 10).unwrap(), "Acme");
        assert_eq!(required_text(" ", "a name", 10).unwrap_err(), "Enter a name.");
        assert_eq!(required_text("abcdefghijk", "a name", 10).unwrap_err(), "Use at most 10 characters.");
        assert!(required_text("a\u{0}b", "a name", 10).is_err());
        assert_eq!(optional_text("   ", 10).unwrap(), None);
        assert_eq!(optional_long_text("line one\nline two", 100).unwrap().unwrap(), "line one\nline two");
    }

    #[test]
    fn phone_is_e164_after_removing_readability_characters() {
        assert_eq!(optional_phone("+44 20 7946-0958").unwrap().unwrap(), "+442079460958");
        assert_eq!(optional_phone("").unwrap(), None);
        for bad in ["02079460958", "+0 123 456 789", "+44 abc", "+1234567", "+1234567890123456"] {
            assert!(optional_phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn region_and_language_come_from_their_lists() {
        assert_eq!(optional_region("Europe").unwrap().unwrap(), "Europe");
        assert_eq!(optional_region("").unwrap(), None);
        assert!(optional_region("Atlantis").is_err());
        assert_eq!(language("de").unwrap(), "de");
        assert!(language("xx").is_err());
    }
}
