//! E-mail templates: each message has a plain-text and an HTML body built from the same parts.
//! Links always start with the configured public base URL.

/// A message ready to queue.
pub struct Rendered {
    pub kind: &'static str,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The messages Roster sends.
pub enum Mail<'a> {
    PasswordReset { name: &'a str, link: &'a str, valid_minutes: i64 },
    PasswordChanged { name: &'a str, sign_in_link: &'a str },
    Invitation { inviter: &'a str, account: &'a str, link: &'a str, valid_days: i32 },
    /// A generated password; its body is scrubbed from the outbox once delivered.
    TemporaryPassword { name: &'a str, account: &'a str, password: &'a str, sign_in_link: &'a str },
    AccountCreated { name: &'a str, account: &'a str, inviter: &'a str, sign_in_link: &'a str },
    PasswordSetByAdministrator { name: &'a str, account: &'a str, sign_in_link: &'a str },
    EmailConfirmation { name: &'a str, link: &'a str, valid_hours: i64 },
    AlreadyRegistered { sign_in_link: &'a str, reset_link: &'a str },
    /// A customer user's link to choose a password and enter the customer portal (SPEC 4.7).
    Activation { name: &'a str, account: &'a str, customer: &'a str, link: &'a str, valid_days: i32 },
}

/// The kind of message whose body holds a secret and is replaced once it was delivered.
pub const SECRET_KIND: &str = "temporary_password";

impl Mail<'_> {
    pub fn render(&self) -> Rendered {
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
            Mail::PasswordChanged { name, sign_in_link } => compose(
                "password_changed",
                "Your Roster password was changed",
                name,
                &["The password of your Roster account was just changed, and every other session was signed out."],
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
            Mail::TemporaryPassword { name, account, password, sign_in_link } => compose(
                SECRET_KIND,
                &format!("Your temporary password for {account} on Roster"),
                name,
                &[
                    &format!("An administrator of {account} set a temporary password for you: {password}"),
                    "It works for 24 hours. When you sign in with it, you will choose your own password.",
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
            Mail::PasswordSetByAdministrator { name, account, sign_in_link } => compose(
                "password_set",
                &format!("Your password for {account} on Roster was reset"),
                name,
                &[
                    "An administrator set a new password for your account and signed you out everywhere.",
                    "Ask them for it; you will choose your own when you sign in.",
                ],
                Some(("Sign in", sign_in_link)),
                "If you were not expecting this, tell the administrators of your account.",
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
    Rendered { kind, subject: subject.to_owned(), text, html }
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
    }
}
