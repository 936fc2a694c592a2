//! A list reloads when the link to it is clicked while it is shown (the sidebar entry, or the
//! tab of the list): the router does not navigate to the address it is on, so without this a
//! second click would leave rows that others changed since.

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Refresh(RwSignal<u64>);

impl Refresh {
    /// Once at the root of the app.
    pub fn provide() {
        provide_context(Refresh(RwSignal::new(0)));
    }

    /// The app's, or a lone one (a page rendered without the app around it).
    pub fn current() -> Self {
        use_context::<Refresh>().unwrap_or_else(|| Refresh(RwSignal::new(0)))
    }

    /// Read in a list's resource source, so a bump reloads it.
    pub fn tick(self) -> u64 {
        self.0.get()
    }

    /// A link to the page being shown was clicked.
    pub fn bump(self) {
        self.0.update(|n| *n += 1);
    }
}
