//! "Delete this customer?": what would go with it (sub-customers, customer users), then one
//! button. The details page and each row of the list open the same dialog.

use super::{customers_page::deletion_text, preview_customer_deletion, DeleteCustomers};
use crate::ui::{action_error, on_success, Dialog, DialogActions, FormAlert};
use leptos::prelude::*;

#[component]
pub fn DeleteCustomerDialog(
    open: RwSignal<bool>,
    /// The customer to delete: its id and title.
    #[prop(into)]
    target: Signal<Option<(i64, String)>>,
    /// After it is deleted.
    deleted: Callback<()>,
) -> impl IntoView {
    let delete = ServerAction::<DeleteCustomers>::new();
    on_success(delete.value(), move |_| {
        open.set(false);
        deleted.run(());
    });
    let title = Signal::derive(move || target.with(|t| t.as_ref().map(|(_, title)| format!("Delete {title}?")).unwrap_or_default()));
    view! {
        <Dialog id="delete-customer" open title>
            {move || {
                delete.clear();
                let Some((id, _)) = target.get() else { return ().into_any() };
                let preview = Resource::new(move || vec![id.to_string()], preview_customer_deletion);
                view! {
                    <FormAlert error=action_error(delete.value())/>
                    <Suspense fallback=|| view! { <p class="loading">"Checking what would go…"</p> }>
                        {move || Suspend::new(async move {
                            match preview.await {
                                Err(e) => view! { <div class="alert alert-error" role="alert">{e.to_string()}</div> }.into_any(),
                                Ok(p) => view! {
                                    <p>{deletion_text(1, p.sub_customers, p.customer_users)}</p>
                                    <ActionForm action=delete>
                                        <input type="hidden" name="ids[]" value=id/>
                                        <DialogActions open=open label="Delete customer" pending=delete.pending() class="btn btn-danger"/>
                                    </ActionForm>
                                }.into_any(),
                            }
                        })}
                    </Suspense>
                }.into_any()
            }}
        </Dialog>
    }
}
