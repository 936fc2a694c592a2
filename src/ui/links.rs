//! The one page for a single-use link that no longer works: it says why, and the way on.

use super::AuthLayout;
use leptos::prelude::*;

/// Why a link does not work, and the way on: a page to ask for a new link (`action`, with
/// "Back to sign in" below it), or else signing in.
#[component]
pub fn LinkProblem(
    #[prop(into)] title: String,
    #[prop(into)] text: String,
    /// `(label, href)` of the way on, when there is one besides signing in.
    #[prop(default = None)]
    action: Option<(&'static str, &'static str)>,
) -> impl IntoView {
    view! {
        <AuthLayout title=title>
            <p class="auth-text">{text}</p>
            {match action {
                Some((label, href)) => view! {
                    <a class="btn btn-primary btn-block" href=href>{label}</a>
                    <p class="auth-switch"><a href="/sign-in">"Back to sign in"</a></p>
                }.into_any(),
                None => view! { <a class="btn btn-secondary btn-block" href="/sign-in">"Go to sign in"</a> }.into_any(),
            }}
        </AuthLayout>
    }
}
