//! Guessing passwords: however many guesses arrive at once, and on however many instances, at
//! most the limit of them are checked against the real hash before the e-mail locks; a refused
//! guess still costs one (dummy) verification; the current password in Change password is
//! guarded the same way; and `next` after sign-in never leaves the site.

use crate::{
    instances::second_instance,
    support::{Client, TestApp, PASSWORD},
};
use futures::future::join_all;
use roster::{auth::SIGN_IN_FAILED, error::AppError};
use sqlx::PgPool;

fn real_verifications(apps: &[&TestApp]) -> u64 {
    apps.iter().map(|a| a.state.passwords.real_verifications()).sum()
}

fn verifications(apps: &[&TestApp]) -> u64 {
    apps.iter().map(|a| a.state.passwords.verifications()).sum()
}

#[sqlx::test]
async fn a_burst_of_guesses_on_two_instances_reaches_the_real_hash_at_most_five_times(db: PgPool) {
    let one = TestApp::new(db.clone());
    let two = second_instance(&db, |_| {}).await;
    one.sign_up("Acme", "ada@acme.test").await;
    let (real_before, all_before) = (real_verifications(&[&one, &two]), verifications(&[&one, &two]));
    let mut clients: Vec<Client<'_>> = (0..40).map(|i| if i % 2 == 0 { one.client() } else { two.client() }).collect();
    let guesses = join_all(clients.iter_mut().enumerate().map(|(i, c)| {
        let guess = format!("wrong-guess-number-{i}");
        async move { c.sign_in("ada@acme.test", &guess).await }
    }))
    .await;
    for res in &guesses {
        assert_eq!(res.error(), AppError::Refused(SIGN_IN_FAILED.into()));
    }
    let real = real_verifications(&[&one, &two]) - real_before;
    assert!(real <= 5, "{real} guesses were checked against the real hash");
    assert_eq!(verifications(&[&one, &two]) - all_before, 40, "every guess costs one verification, real or not");
    // Locked now: the right password is refused too, on either instance.
    for app in [&one, &two] {
        let res = app.client_from("198.51.100.20").sign_in("ada@acme.test", PASSWORD).await;
        assert_eq!(res.error(), AppError::Refused(SIGN_IN_FAILED.into()));
    }
}

#[sqlx::test]
async fn guesses_of_the_current_password_are_limited_like_sign_in(db: PgPool) {
    let app = TestApp::new(db);
    let ada = app.sign_up("Acme", "ada@acme.test").await;
    let before = app.state.passwords.real_verifications();
    let mut sessions: Vec<Client<'_>> = (0..20)
        .map(|_| {
            let mut c = app.client();
            c.cookie = ada.cookie.clone();
            c
        })
        .collect();
    let answers = join_all(sessions.iter_mut().enumerate().map(|(i, c)| {
        let guess = format!("not-my-password-{i}");
        async move {
            c.call("change_password", &[("current_password", &guess), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")])
                .await
        }
    }))
    .await;
    for res in &answers {
        assert!(!res.status.is_success() && !res.status.is_server_error(), "{} {}", res.status, res.text());
    }
    let real = app.state.passwords.real_verifications() - before;
    assert!(real <= 5, "{real} guesses of the current password were checked");
    let mut ada = ada;
    let res = ada
        .call("change_password", &[("current_password", PASSWORD), ("password", "amber-piano-harbour"), ("password_confirm", "amber-piano-harbour")])
        .await;
    assert!(matches!(res.error(), AppError::Refused(m) if m.contains("Too many attempts")));
    // And signing in with the password is locked as well: one count per person.
    let res = app.client_from("198.51.100.30").sign_in("ada@acme.test", PASSWORD).await;
    assert_eq!(res.error(), AppError::Refused(SIGN_IN_FAILED.into()));
}

#[sqlx::test]
async fn after_sign_in_next_goes_only_to_a_page_of_this_site(db: PgPool) {
    let app = TestApp::new(db);
    app.sign_up("Acme", "ada@acme.test").await;
    for (next, expected) in [
        ("/customers?q=acme", "/customers?q=acme"),
        ("/\t/evil.example", "/"),
        ("/\n/evil.example/path", "/"),
        ("//evil.example", "/"),
        ("/.//evil.example", "/"),
        ("/./\\evil.example", "/"),
        ("/a/..//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
    ] {
        let mut client = app.client();
        let res = client.call("sign_in", &[("email", "ada@acme.test"), ("password", PASSWORD), ("next", next)]).await;
        assert!(res.status.is_success(), "{next:?}: {}", res.text());
        assert_eq!(res.json::<String>(), expected, "{next:?}");
    }
}
