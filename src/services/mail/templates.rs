//! E-mail templates: each message has a plain-text and an HTML body built from the same parts.
//! Links always start with the configured public base URL.

/// A message ready to queue.
pub struct Rendered {
    pub kind: &'static str,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// What in the bodies is for the recipient alone (a link with its token, a temporary
    /// password): hidden wherever the outbox is shown, and removed once the mail is delivered.
    pub secret: Option<String>,
}

/// When and from where a security change was made, for the notice that tells the user.
pub struct Occasion {
    pub at: String,
    pub client_ip: Option<String>,
}

impl Occasion {
    /// Now (by the application's clock), from the address of the request being served.
    pub fn now(at: chrono::DateTime<chrono::Utc>) -> Self {
        Self { at: at.format("%-d %b %Y at %H:%M UTC").to_string(), client_ip: crate::server::http::request_client_ip() }
    }

    fn sentence(&self, what: &str) -> String {
        match &self.client_ip {
            Some(ip) => format!("{what} on {} from the address {ip}.", self.at),
            None => format!("{what} on {}.", self.at),
        }
    }
}

/// The messages Roster sends.
pub enum Mail<'a> {
    PasswordReset { name: &'a str, link: &'a str, valid_minutes: i64 },
    PasswordChanged { name: &'a str, sign_in_link: &'a str, occasion: Occasion },
    Invitation { inviter: &'a str, account: &'a str, link: &'a str, valid_days: i32 },
    /// A generated password; its body is scrubbed from the outbox once delivered.
    TemporaryPassword { name: &'a str, account: &'a str, password: &'a str, sign_in_link: &'a str, occasion: Occasion },
    AccountCreated { name: &'a str, account: &'a str, inviter: &'a str, sign_in_link: &'a str },
    PasswordSetByAdministrator { name: &'a str, account: &'a str, sign_in_link: &'a str, occasion: Occasion },
    EmailConfirmation { name: &'a str, link: &'a str, valid_hours: i64 },
    /// The link that creates a business account and its first Administrator (SPEC 1.1).
    SignUpConfirmation { name: &'a str, account: &'a str, link: &'a str, valid_hours: i64 },
    AlreadyRegistered { sign_in_link: &'a str, reset_link: &'a str },
    /// To the old address when the sign-in address changes.
    EmailChangedAway { name: &'a str, occasion: Occasion },
    /// To the new address when the sign-in address changes.
    EmailChangedHere { name: &'a str, sign_in_link: &'a str, occasion: Occasion },
    /// A customer user's link to choose a password and enter the customer portal (SPEC 4.7).
    Activation { name: &'a str, account: &'a str, customer: &'a str, link: &'a str, valid_days: i32 },
    /// To the billing contact when a limit of the plan is 80% or 100% used (SPEC 2.2).
    UsageWarning { account: &'a str, plan: &'a str, usage: &'a str, percent: i32, billing_link: &'a str },
}

/// What a hidden secret reads as on a screen.
pub const HIDDEN: &str = "[hidden: for the recipient only]";
/// What a secret reads as in the outbox once the mail was delivered.
pub const REMOVED: &str = "[removed after delivery]";

/// `text` with every occurrence of `secret` (as written in plain text or escaped in HTML)
/// replaced by `with`.
pub fn redact(text: &str, secret: Option<&str>, with: &str) -> String {
    match secret.filter(|s| !s.is_empty()) {
        Some(secret) => text.replace(secret, with).replace(&escape(secret), with),
        None => text.to_owned(),
    }
}

impl Mail<'_> {
    /// Mail that keeps an account safe or its people informed about their access: counted in
    /// the plan's e-mails, never refused by it.
    pub fn is_security(&self) -> bool {
        matches!(
            self,
            Mail::PasswordReset { .. }
                | Mail::PasswordChanged { .. }
                | Mail::PasswordSetByAdministrator { .. }
                | Mail::EmailChangedAway { .. }
                | Mail::EmailChangedHere { .. }
                | Mail::AlreadyRegistered { .. }
                | Mail::UsageWarning { .. }
        )
    }

    pub fn render(&self) -> Rendered {
        let secret = match self {
            Mail::PasswordReset { link, .. }
            | Mail::Invitation { link, .. }
            | Mail::EmailConfirmation { link, .. }
            | Mail::SignUpConfirmation { link, .. }
            | Mail::Activation { link, .. } => Some((*link).to_owned()),
            Mail::TemporaryPassword { password, .. } => Some((*password).to_owned()),
            _ => None,
        };
        Rendered { secret, ..self.compose() }
    }

    fn compose(&self) -> Rendered {
        match self {
            Mail::PasswordReset { name, link, valid_minutes } => compose(
                "password_reset",
                "Reset your Roster password",
                name,
                &[
                    "We received a request to reset the password of your Roster account.",
                    &format!("The link works once and for {valid_minutes} minutes."),
                ],
                Some(("Choose a new password", link)),
                "If you did not ask for this, ignore this message: your password stays as it is.",
            ),
            Mail::PasswordChanged { name, sign_in_link, occasion } => compose(
                "password_changed",
                "Your Roster password was changed",
                name,
                &[
                    &occasion.sentence("The password of your Roster account was changed"),
                    "Every other session was signed out.",
                ],
                Some(("Sign in", sign_in_link)),
                "If this was not you, reset your password at once and tell your administrator.",
            ),
            Mail::Invitation { inviter, account, link, valid_days } => compose(
                "invitation",
                &format!("{inviter} invited you to {account} on Roster"),
                "there",
                &[
                    &format!("{inviter} invited you to join {account} on Roster."),
                    &format!("Open the link to choose your name and password. It works once, for {valid_days} days."),
                ],
                Some(("Accept the invitation", link)),
                &format!("If you were not expecting this, ignore this message or ask {inviter} about it."),
            ),
            Mail::TemporaryPassword { name, account, password, sign_in_link, occasion } => compose(
                "temporary_password",
                &format!("Your temporary password for {account} on Roster"),
                name,
                &[
                    &format!("An administrator of {account} set a temporary password for you: {password}"),
                    "It works for 24 hours. When you sign in with it, you will choose your own password.",
                    &occasion.sentence("The password was set"),
                ],
                Some(("Sign in", sign_in_link)),
                "If you were not expecting this, tell the administrators of your account.",
            ),
            Mail::AccountCreated { name, account, inviter, sign_in_link } => compose(
                "account_created",
                &format!("Your account for {account} on Roster"),
                name,
                &[
                    &format!("{inviter} created a Roster account for you in {account}."),
                    &format!("{inviter} will give you its first password; you will choose your own when you sign in."),
                ],
                Some(("Sign in", sign_in_link)),
                "If you were not expecting this, tell the administrators of your account.",
            ),
            Mail::SignUpConfirmation { name, account, link, valid_hours } => compose(
                "sign_up_confirmation",
                &format!("Confirm your e-mail address to create {account} on Roster"),
                name,
                &[
                    &format!("Thanks for setting up {account} on Roster. Confirm that this address is yours to create the account; you will be its first Administrator."),
                    &format!("The link works once, for {valid_hours} hours."),
                ],
                Some(("Confirm and create the account", link)),
                "If you did not sign up, ignore this message and nothing is created.",
            ),
            Mail::EmailChangedAway { name, occasion } => compose(
                "email_changed",
                "Your Roster sign-in address was changed",
                name,
                &[
                    &occasion.sentence("The e-mail address you sign in to Roster with was changed to another address"),
                    "Messages about the account now go to the new address, and every session was signed out.",
                ],
                None,
                "If you did not expect this, tell your administrator at once.",
            ),
            Mail::EmailChangedHere { name, sign_in_link, occasion } => compose(
                "email_changed",
                "This is now your Roster sign-in address",
                name,
                &[&occasion.sentence("This address became the one you sign in to Roster with")],
                Some(("Sign in", sign_in_link)),
                "If you did not expect this, tell your administrator.",
            ),
            Mail::EmailConfirmation { name, link, valid_hours } => compose(
                "email_confirmation",
                "Confirm your e-mail address for Roster",
                name,
                &[
                    "Thanks for creating a personal Roster account.",
                    &format!("Confirm that this address is yours; the link works once, for {valid_hours} hours."),
                ],
                Some(("Confirm my e-mail address", link)),
                "If you did not create an account, ignore this message and nothing happens.",
            ),
            Mail::Activation { name, account, customer, link, valid_days } => compose(
                "activation",
                &format!("Activate your {account} account for {customer}"),
                name,
                &[
                    &format!("{account} added you as a user of {customer} on Roster."),
                    &format!("Open the link to choose your password and sign in. It works once, for {valid_days} days."),
                ],
                Some(("Activate my account", link)),
                &format!("If you were not expecting this, ignore this message or ask {account} about it."),
            ),
            Mail::AlreadyRegistered { sign_in_link, reset_link } => compose(
                "already_registered",
                "You already have a Roster account",
                "there",
                &[
                    "Someone, probably you, tried to create a Roster account with this address, but it already has one.",
                    &format!("If you forgot your password, reset it here: {reset_link}"),
                ],
                Some(("Sign in", sign_in_link)),
                "If this was not you, you can ignore this message.",
            ),
            Mail::PasswordSetByAdministrator { name, account, sign_in_link, occasion } => compose(
                "password_set",
                &format!("Your password for {account} on Roster was reset"),
                name,
                &[
                    "An administrator set a new password for your account and signed you out everywhere.",
                    &occasion.sentence("The password was set"),
                    "Ask them for it; you will choose your own when you sign in.",
                ],
                Some(("Sign in", sign_in_link)),
                "If you were not expecting this, tell the administrators of your account.",
            ),
            Mail::UsageWarning { account, plan, usage, percent, billing_link } => compose(
                "usage_warning",
                &if *percent >= 100 {
                    format!("{account} has reached a limit of its Roster plan")
                } else {
                    format!("{account} has used {percent}% of a limit of its Roster plan")
                },
                "there",
                &[
                    &format!("{account} is on the {plan} plan and now has {usage}."),
                    if *percent >= 100 {
                        "Nothing more of it can be added until the limit is raised or some are removed."
                    } else {
                        "When the limit is reached, nothing more of it can be added until it is raised."
                    },
                ],
                Some(("Open Billing", billing_link)),
                "You receive this as the billing contact of the account; Billing says who that is.",
            ),
        }
    }
}

fn compose(
    kind: &'static str,
    subject: &str,
    name: &str,
    paragraphs: &[&str],
    action: Option<(&str, &str)>,
    footer: &str,
) -> Rendered {
    let mut text = format!("Hello {name},\n\n");
    let mut html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:system-ui,sans-serif;color:#1f2937;line-height:1.5\">\
         <p>Hello {},</p>",
        escape(name)
    );
    for paragraph in paragraphs {
        text.push_str(paragraph);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape(paragraph)));
    }
    if let Some((label, link)) = action {
        text.push_str(&format!("{label}: {link}\n\n"));
        html.push_str(&format!(
            "<p><a href=\"{}\" style=\"display:inline-block;padding:10px 16px;background:#2563eb;color:#fff;\
             border-radius:6px;text-decoration:none\">{}</a></p>\
             <p style=\"font-size:13px;color:#6b7280\">Or copy this address into your browser: {}</p>",
            escape(link),
            escape(label),
            escape(link)
        ));
    }
    text.push_str(footer);
    text.push_str("\n\n— Roster\n");
    html.push_str(&format!(
        "<p style=\"font-size:13px;color:#6b7280\">{}</p><p>— Roster</p></body></html>",
        escape(footer)
    ));
    Rendered { kind, subject: subject.to_owned(), text, html, secret: None }
}

pub fn escape(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_mail_carries_the_link_in_both_bodies_and_escapes_names() {
        let mail = Mail::PasswordReset {
            name: "Ada <script>",
            link: "http://roster.test/reset-password?token=abc",
            valid_minutes: 60,
        }
        .render();
        assert_eq!(mail.kind, "password_reset");
        assert!(mail.text.contains("http://roster.test/reset-password?token=abc"));
        assert!(mail.text.contains("60 minutes"));
        assert!(mail.html.contains("href=\"http://roster.test/reset-password?token=abc\""));
        assert!(mail.html.contains("Ada &lt;script&gt;"));
        assert!(!mail.html.contains("<script>"));
        assert_eq!(mail.secret.as_deref(), Some("http://roster.test/reset-password?token=abc"));
    }

    #[test]
    fn secrets_are_named_so_they_can_be_hidden_and_notices_carry_none() {
        let occasion = || Occasion { at: "1 Dec 2026, 10:00 UTC".into(), client_ip: Some("203.0.113.7".into()) };
        let temp = Mail::TemporaryPassword { name: "Ada", account: "Acme", password: "abcde-fghij", sign_in_link: "http://x/sign-in", occasion: occasion() }.render();
        assert_eq!(temp.secret.as_deref(), Some("abcde-fghij"));
        let shown = redact(&temp.text, temp.secret.as_deref(), HIDDEN);
        assert!(!shown.contains("abcde-fghij") && shown.contains(HIDDEN));
        assert!(!redact(&temp.html, temp.secret.as_deref(), HIDDEN).contains("abcde-fghij"));
        assert!(temp.text.contains("from the address 203.0.113.7"));
        let changed = Mail::PasswordChanged { name: "Ada", sign_in_link: "http://x/sign-in", occasion: occasion() }.render();
        assert_eq!(changed.secret, None);
        assert!(changed.text.contains("on 1 Dec 2026, 10:00 UTC from the address 203.0.113.7"));
        let away = Mail::EmailChangedAway { name: "Ada", occasion: Occasion { at: "now".into(), client_ip: None } }.render();
        assert!(away.text.contains("was changed to another address on now."));
    }
}
