//! The audit trail (SPEC 7.1): every change writes one row, in the change's own transaction,
//! through the [`Actor`] who made it. Actions and record types are enums, defined once here, so
//! the rows and the viewer's filter lists come from one list.

use serde::{Deserialize, Serialize};

macro_rules! actions {
    ($($variant:ident = $key:literal,)*) => {
        /// What happened. Stored in `audit_events.action` by its [`Action::key`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
        pub enum Action { $($variant,)* }

        impl Action {
            pub const ALL: [Action; [$(Action::$variant,)*].len()] = [$(Action::$variant,)*];

            pub fn key(self) -> &'static str {
                match self { $(Action::$variant => $key,)* }
            }
        }
    };
}

actions! {
    AccountCreated = "account.created",
    AccountSettingsUpdated = "account.settings_updated",
    AccountBillingUpdated = "account.billing_updated",
    AccountPlanChanged = "account.plan_changed",
    SessionSignedIn = "session.signed_in",
    SessionSignedOut = "session.signed_out",
    SessionSignInFailed = "session.sign_in_failed",
    UserRegistered = "user.registered",
    UserCreated = "user.created",
    UserUpdated = "user.updated",
    UserRoleChanged = "user.role_changed",
    UserProfileUpdated = "user.profile_updated",
    UserPasswordChanged = "user.password_changed",
    UserPasswordResetRequested = "user.password_reset_requested",
    UserPasswordReset = "user.password_reset",
    UserPasswordResetByAdministrator = "user.password_reset_by_administrator",
    UserPasswordResetByOperator = "user.password_reset_by_operator",
    UserInvited = "user.invited",
    UserInvitationResent = "user.invitation_resent",
    UserInvitationRevoked = "user.invitation_revoked",
    UserInvitationAccepted = "user.invitation_accepted",
    UserDisabled = "user.disabled",
    UserEnabled = "user.enabled",
    UserRemoved = "user.removed",
    UserDeleted = "user.deleted",
    CompanyCreated = "company.created",
    CompanyRenamed = "company.renamed",
    CompanyMoved = "company.moved",
    CompanyDeleted = "company.deleted",
    RoleCreated = "role.created",
    RoleUpdated = "role.updated",
    RoleDeleted = "role.deleted",
    CustomerCreated = "customer.created",
    CustomerCreatedByAccount = "customer.created_by_account",
    CustomerUpdated = "customer.updated",
    CustomerDeleted = "customer.deleted",
    CustomerRemoved = "customer.removed",
    CustomerTypeChanged = "customer.type_changed",
    CustomerAddedToGroup = "customer.added_to_group",
    CustomerGroupsChanged = "customer.groups_changed",
    CustomerTypeCreated = "customer_type.created",
    CustomerTypeUpdated = "customer_type.updated",
    CustomerTypeDeleted = "customer_type.deleted",
    CustomerGroupCreated = "customer_group.created",
    CustomerGroupRenamed = "customer_group.renamed",
    CustomerGroupDeleted = "customer_group.deleted",
    CustomerUserCreated = "customer_user.created",
    CustomerUserUpdated = "customer_user.updated",
    CustomerUserEnabled = "customer_user.enabled",
    CustomerUserDisabled = "customer_user.disabled",
    CustomerUserDeleted = "customer_user.deleted",
    CustomerUserActivationResent = "customer_user.activation_resent",
    CustomerUserActivated = "customer_user.activated",
    EmailRetried = "email.retried",
    ApiKeyCreated = "api_key.created",
    ApiKeyRevoked = "api_key.revoked",
    WebhookCreated = "webhook.created",
    WebhookSecretRotated = "webhook.secret_rotated",
    WebhookDeleted = "webhook.deleted",
    WebhookRedelivered = "webhook.redelivered",
    CustomersExported = "customers.exported",
    CustomersImported = "customers.imported",
    CustomerUsersImported = "customer_users.imported",
}

impl Action {
    /// The webhook event a change of this kind is, if any.
    pub fn webhook_event(self) -> Option<crate::services::webhooks::Event> {
        use crate::services::webhooks::Event;
        Some(match self {
            Action::CustomerCreated | Action::CustomerCreatedByAccount => Event::CustomerCreated,
            Action::CustomerUpdated | Action::CustomerTypeChanged | Action::CustomerAddedToGroup | Action::CustomerGroupsChanged => {
                Event::CustomerUpdated
            }
            Action::CustomerDeleted | Action::CustomerRemoved => Event::CustomerDeleted,
            Action::CustomerUserCreated => Event::CustomerUserCreated,
            Action::CustomerUserActivated => Event::CustomerUserActivated,
            Action::CustomerUserDisabled => Event::CustomerUserDisabled,
            Action::CustomerUserDeleted => Event::CustomerUserDeleted,
            Action::UserInvited => Event::UserInvited,
            Action::UserInvitationAccepted => Event::UserInvitationAccepted,
            Action::UserDisabled => Event::UserDisabled,
            Action::UserRemoved | Action::UserDeleted => Event::UserRemoved,
            _ => return None,
        })
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.key() == key)
    }

    /// `customer.created` reads "Customer created".
    pub fn label(self) -> String {
        label_of(self.key())
    }

    /// The kind of record the action's rows are about: what its key begins with (a session
    /// and a customer user are users).
    pub fn record_type(self) -> RecordType {
        let (noun, _) = self.key().split_once('.').unwrap_or((self.key(), ""));
        match noun {
            "session" | "customer_user" => RecordType::User,
            other => RecordType::from_key(other).unwrap_or(RecordType::Account),
        }
    }
}

/// A stored key as words: `customer.created` reads "Customer created".
pub fn label_of(key: &str) -> String {
    let text = key.replace(['.', '_'], " ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What kind of record an event is about. Stored in `audit_events.record_type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecordType {
    Account,
    Company,
    Role,
    User,
    Customer,
    CustomerType,
    CustomerGroup,
    Email,
    ApiKey,
    Webhook,
}

impl RecordType {
    pub const ALL: [RecordType; 10] = [
        RecordType::Account,
        RecordType::Company,
        RecordType::Role,
        RecordType::User,
        RecordType::Customer,
        RecordType::CustomerType,
        RecordType::CustomerGroup,
        RecordType::Email,
        RecordType::ApiKey,
        RecordType::Webhook,
    ];

    pub fn key(self) -> &'static str {
        match self {
            RecordType::Account => "account",
            RecordType::Company => "company",
            RecordType::Role => "role",
            RecordType::User => "user",
            RecordType::Customer => "customer",
            RecordType::CustomerType => "customer_type",
            RecordType::CustomerGroup => "customer_group",
            RecordType::Email => "email",
            RecordType::ApiKey => "api_key",
            RecordType::Webhook => "webhook",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.key() == key)
    }

    /// Events about the account as a whole (its roles, its settings, its mail): shown only to
    /// Administrators and to holders of Account settings.
    pub fn account_level(self) -> bool {
        matches!(self, RecordType::Account | RecordType::Role | RecordType::Email | RecordType::ApiKey | RecordType::Webhook)
    }
}

/// The record an event is about: its type and, for a single record, its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub kind: RecordType,
    pub id: Option<i64>,
}

impl Record {
    pub fn new(kind: RecordType, id: i64) -> Self {
        Self { kind, id: Some(id) }
    }

    /// Several records at once (a bulk action): the id only when there is just one.
    pub fn many(kind: RecordType, ids: &[i64]) -> Self {
        Self { kind, id: (ids.len() == 1).then(|| ids[0]) }
    }

    pub fn account(id: i64) -> Self {
        Self::new(RecordType::Account, id)
    }
    pub fn company(id: i64) -> Self {
        Self::new(RecordType::Company, id)
    }
    pub fn role(id: i64) -> Self {
        Self::new(RecordType::Role, id)
    }
    pub fn user(id: i64) -> Self {
        Self::new(RecordType::User, id)
    }
    pub fn customer(id: i64) -> Self {
        Self::new(RecordType::Customer, id)
    }
    pub fn customer_type(id: i64) -> Self {
        Self::new(RecordType::CustomerType, id)
    }
    pub fn customer_group(id: i64) -> Self {
        Self::new(RecordType::CustomerGroup, id)
    }
    pub fn email(id: i64) -> Self {
        Self::new(RecordType::Email, id)
    }
    pub fn api_key(id: i64) -> Self {
        Self::new(RecordType::ApiKey, id)
    }
    pub fn webhook(id: i64) -> Self {
        Self::new(RecordType::Webhook, id)
    }
}

#[cfg(feature = "ssr")]
pub use self::ssr::*;

#[cfg(feature = "ssr")]
mod ssr;

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn changes_keep_only_fields_that_changed_and_hide_secrets() {
        let changes: Value = Changes::default()
            .field("name", &"Ada", &"Ada L.")
            .field("phone", &None::<String>, &None::<String>)
            .secret("password")
            .into();
        assert_eq!(changes, json!({"name": {"from": "Ada", "to": "Ada L."}, "password": "changed"}));
    }

    #[test]
    fn actions_and_record_types_round_trip_through_their_keys() {
        for action in Action::ALL {
            assert_eq!(Action::from_key(action.key()), Some(action));
        }
        for kind in RecordType::ALL {
            assert_eq!(RecordType::from_key(kind.key()), Some(kind));
        }
        let mut keys: Vec<&str> = Action::ALL.iter().map(|a| a.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), Action::ALL.len());
        assert_eq!(Action::CustomerCreated.label(), "Customer created");
        assert_eq!(Action::RoleUpdated.record_type(), RecordType::Role);
        assert_eq!(Action::SessionSignedIn.record_type(), RecordType::User);
        assert_eq!(Action::CustomerUserCreated.record_type(), RecordType::User);
        assert_eq!(Action::CustomerTypeDeleted.record_type(), RecordType::CustomerType);
        assert_eq!(Action::EmailRetried.record_type(), RecordType::Email);
    }

    #[test]
    fn every_webhook_event_comes_from_an_action_of_the_same_name() {
        for event in crate::services::webhooks::Event::ALL {
            let from: Vec<Action> = Action::ALL.into_iter().filter(|a| a.webhook_event() == Some(event)).collect();
            assert!(from.iter().any(|a| a.key() == event.key()), "{event:?} is sent for {from:?}");
        }
        assert_eq!(Action::ApiKeyCreated.webhook_event(), None, "account-level changes are not events");
    }
}
