//! Accounts and signing in (SPEC 1.1–1.8): sign-up and registration confirmed by e-mail,
//! sign-in with brute-force limits, sign-out, password reset by e-mailed link, change of own
//! password, own profile. Its server functions (`api`) are the only way the browser reaches
//! these records; its SQL is in `ssr`.

mod api;
mod password_pages;
mod profile_pages;
mod sign_in_page;
mod sign_up_pages;
#[cfg(feature = "ssr")]
pub mod ssr;

pub use api::*;
pub use password_pages::{ForgotPasswordPage, ResetPasswordPage};
pub use profile_pages::{ChangePasswordPage, ProfilePage};
pub use sign_in_page::SignInPage;
pub use sign_up_pages::{ConfirmEmailPage, RegisterPage, SignUpPage};

use crate::{
    error::{AppError, FieldErrors},
    permissions::{CustomerFeature, Module, Permission, UserKind},
    services::links::LinkState,
    ui::{PASSWORD_CONFIRM_FIELD, PASSWORD_FIELD},
    validation::{
        confirm_matches, language, optional_phone, optional_region, required_text, Email, Field, Password, NAME_MAX_CHARS,
    },
};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the browser knows about the signed-in user: enough to draw the shell and hide what they
/// may not use. The server checks again on every call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub user_id: i64,
    pub display_name: String,
    pub email: String,
    pub kind: UserKind,
    pub account_name: Option<String>,
    pub role_name: Option<String>,
    pub is_administrator: bool,
    pub permissions: Vec<Permission>,
    pub must_change_password: bool,
    /// No SMTP server is configured: mail waits in the outbox for an Administrator to read.
    pub dev_mail: bool,
    /// For a customer user: what their customer's type grants in the portal.
    pub customer_features: Vec<CustomerFeature>,
}

impl SessionView {
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }

    pub fn sees(&self, module: Module) -> bool {
        self.can(module.entry_permission())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub email: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub region: Option<String>,
    pub language: String,
}

/// What the sign-up and registration forms answer, whatever the address. Only with development
/// mail (no SMTP server, a local server) does a new address's link come back as well, so it can
/// be opened at once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfirmationSent {
    pub email: String,
    pub dev_link: Option<String>,
}

/// What the confirmation page shows about its link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfirmationView {
    pub state: LinkState,
    /// The business account the link creates; none for a personal account.
    pub account_name: Option<String>,
}

/// The one message for every failed sign-in, whatever the reason (SPEC 1.2, 1.8).
pub const SIGN_IN_FAILED: &str =
    "The e-mail or password is incorrect, or sign-in is paused after repeated failures. \
     Check them and try again in a few minutes, or reset your password.";

/// How long a password-reset link works.
pub const RESET_LINK_MINUTES: i64 = 60;

/// How long a sign-up or registration link works.
pub const CONFIRMATION_LINK_HOURS: i64 = 24;

// The fields of the forms here, each declared once for the browser and the server.
pub const ACCOUNT_NAME: Field<String> = Field::new("account_name", |raw| required_text(raw, "your business name", NAME_MAX_CHARS));
pub const DISPLAY_NAME: Field<String> = Field::new("display_name", |raw| required_text(raw, "your name", NAME_MAX_CHARS));
pub const EMAIL: Field<Email> = Field::new("email", Email::parse);
pub const PHONE: Field<Option<String>> = Field::new("phone", optional_phone);
pub const REGION: Field<Option<String>> = Field::new("region", optional_region);
pub const LANGUAGE: Field<String> = Field::new("language", language);
pub const CURRENT_PASSWORD: &str = "current_password";

/// The validated sign-up form.
#[derive(Debug)]
pub struct SignUpInput {
    pub account_name: String,
    pub display_name: String,
    pub email: Email,
    pub password: Password,
}

pub fn validate_sign_up(
    account_name: &str,
    display_name: &str,
    email: &str,
    password: &str,
    password_confirm: &str,
) -> Result<SignUpInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let account_name = ACCOUNT_NAME.take(&mut errors, account_name);
    let display_name = DISPLAY_NAME.take(&mut errors, display_name);
    let email = EMAIL.take(&mut errors, email);
    let parsed_password = errors.take(PASSWORD_FIELD, Password::parse(password, email.as_ref().map(Email::as_str)));
    errors.take(PASSWORD_CONFIRM_FIELD, confirm_matches(password, password_confirm));
    match (account_name, display_name, email, parsed_password) {
        (Some(account_name), Some(display_name), Some(email), Some(password)) if errors.is_empty() => {
            Ok(SignUpInput { account_name, display_name, email, password })
        }
        _ => Err(errors),
    }
}

/// The validated registration of a personal account.
#[derive(Debug)]
pub struct RegistrationInput {
    pub display_name: String,
    pub email: Email,
    pub password: Password,
}

pub fn validate_registration(
    display_name: &str,
    email: &str,
    password: &str,
    password_confirm: &str,
) -> Result<RegistrationInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let display_name = DISPLAY_NAME.take(&mut errors, display_name);
    let parsed_email = EMAIL.take(&mut errors, email);
    let parsed_password = errors.take(PASSWORD_FIELD, Password::parse(password, Some(email)));
    errors.take(PASSWORD_CONFIRM_FIELD, confirm_matches(password, password_confirm));
    match (display_name, parsed_email, parsed_password) {
        (Some(display_name), Some(email), Some(password)) if errors.is_empty() => {
            Ok(RegistrationInput { display_name, email, password })
        }
        _ => Err(errors),
    }
}

/// A new password and its confirmation, checked together.
pub fn validate_new_password(password: &str, password_confirm: &str, email: &str) -> Result<Password, FieldErrors> {
    let mut errors = FieldErrors::default();
    let parsed = errors.take(PASSWORD_FIELD, Password::parse(password, Some(email)));
    errors.take(PASSWORD_CONFIRM_FIELD, confirm_matches(password, password_confirm));
    match parsed {
        Some(p) if errors.is_empty() => Ok(p),
        _ => Err(errors),
    }
}

/// The validated profile form.
#[derive(Debug)]
pub struct ProfileInput {
    pub display_name: String,
    pub phone: Option<String>,
    pub region: Option<String>,
    pub language: String,
}

pub fn validate_profile(display_name: &str, phone: &str, region: &str, lang: &str) -> Result<ProfileInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let display_name = DISPLAY_NAME.take(&mut errors, display_name);
    let phone = PHONE.take(&mut errors, phone);
    let region = REGION.take(&mut errors, region);
    let language = LANGUAGE.take(&mut errors, lang);
    match (display_name, phone, region, language) {
        (Some(display_name), Some(phone), Some(region), Some(language)) => {
            Ok(ProfileInput { display_name, phone, region, language })
        }
        _ => Err(errors),
    }
}

/// Where to go after signing in: only a path on this site, never another host. The value is
/// resolved as a URL relative to the public base URL, the way a browser would (which drops tabs
/// and line breaks and reads a backslash as a slash), and kept only if it stays on that origin.
#[cfg(feature = "ssr")]
pub fn safe_next(next: Option<&str>, public_url: &url::Url) -> String {
    let Some(raw) = next.filter(|n| n.starts_with('/')) else {
        return "/".to_owned();
    };
    if raw.chars().any(|c| c.is_control() || c == '\\') {
        return "/".to_owned();
    }
    match public_url.join(raw) {
        // A path that begins with two slashes (or a slash and a backslash) is another host to
        // a browser, whatever it resolved from ("/.//evil.example").
        Ok(target) if target.origin() == public_url.origin() && !target.path().starts_with("//") && !target.path().starts_with("/\\") => {
            let mut local = target.path().to_owned();
            if let Some(query) = target.query() {
                local.push('?');
                local.push_str(query);
            }
            if let Some(fragment) = target.fragment() {
                local.push('#');
                local.push_str(fragment);
            }
            local
        }
        _ => "/".to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Client state
// ---------------------------------------------------------------------------------------------

/// The signed-in session as the browser knows it, loaded with the page and refreshed after
/// changes that alter it (a new display name, say). Changes of identity (sign-in, sign-out)
/// load a new page instead, so nothing of one user's state survives into the next.
#[derive(Clone, Copy)]
pub struct AuthContext {
    pub session: Resource<Result<Option<SessionView>, AppError>>,
    refreshes: RwSignal<u32>,
}

impl AuthContext {
    pub fn provide() -> Self {
        let refreshes = RwSignal::new(0);
        let session = Resource::new(move || refreshes.get(), |_| get_session());
        let context = Self { session, refreshes };
        provide_context(context);
        context
    }

    /// Loads the session again from the server.
    pub fn refresh(&self) {
        self.refreshes.update(|n| *n += 1);
    }

    /// The loaded session, if signed in.
    pub fn current(&self) -> Option<SessionView> {
        self.session.get().and_then(|r| r.ok().flatten())
    }
}

pub fn use_auth() -> AuthContext {
    expect_context::<AuthContext>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_up_reports_every_bad_field_at_once() {
        let Err(errors) = validate_sign_up("", &"x".repeat(101), "not-an-email", "short", "other") else {
            panic!("invalid input accepted");
        };
        assert_eq!(errors.get("account_name"), Some("Enter your business name."));
        assert_eq!(errors.get("display_name"), Some("Use at most 100 characters."));
        assert!(errors.get("email").unwrap().starts_with("Enter a valid e-mail"));
        assert!(errors.get("password").unwrap().starts_with("Use at least 12"));
        assert_eq!(errors.get("password_confirm"), Some("The two passwords do not match."));
    }

    #[test]
    fn sign_up_accepts_a_good_form() {
        let input = validate_sign_up(" Acme Solar ", "Ada", "ada@acme.test", "violet-kettle-onward", "violet-kettle-onward")
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(input.account_name, "Acme Solar");
        assert_eq!(input.email.as_str(), "ada@acme.test");
    }

    #[test]
    fn new_password_refuses_common_and_own_email_and_mismatch() {
        assert!(validate_new_password("qwerty123456", "qwerty123456", "a@b.test").unwrap_err().get("password").is_some());
        assert!(validate_new_password("ada@acme.test", "ada@acme.test", "ada@acme.test").is_err());
        let errors = validate_new_password("violet-kettle-onward", "violet-kettle-0nward", "a@b.test").unwrap_err();
        assert_eq!(errors.get("password"), None);
        assert!(errors.get("password_confirm").is_some());
    }

    #[test]
    fn profile_validation_uses_the_shared_rules() {
        let ok = validate_profile("Ada", "+44 20 7946 0958", "Europe", "en").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(ok.phone.as_deref(), Some("+442079460958"));
        let errors = validate_profile(" ", "12", "Mars", "xx").unwrap_err();
        for field in ["display_name", "phone", "region", "language"] {
            assert!(errors.get(field).is_some(), "{field}");
        }
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn next_is_kept_only_for_local_paths() {
        let base = url::Url::parse("https://roster.example.com").unwrap();
        let next = |n: &str| safe_next(Some(n), &base);
        assert_eq!(next("/profile"), "/profile");
        assert_eq!(next("/customers?q=acme&page=2#top"), "/customers?q=acme&page=2#top");
        assert_eq!(next("//evil.example"), "/");
        assert_eq!(next("https://evil.example"), "/");
        assert_eq!(next("/\\evil.example"), "/");
        // Browsers strip tabs and line breaks: "/\t/evil.example" would become "//evil.example".
        assert_eq!(next("/\t/evil.example"), "/");
        assert_eq!(next("/\n/evil.example"), "/");
        assert_eq!(next("/\r\n/evil.example/x"), "/");
        assert_eq!(next("/%09/evil.example"), "/%09/evil.example", "an encoded tab stays a path on this site");
        assert_eq!(next("profile"), "/");
        // Paths that resolve to "//host" are another site to the browser.
        assert_eq!(next("/.//evil.example"), "/");
        assert_eq!(next("/a/../..//evil.example"), "/");
        assert_eq!(next("/%2e//evil.example"), "/");
        assert_eq!(next("/./profile"), "/profile");
        assert_eq!(safe_next(None, &base), "/");
    }
}
