//! Who may sync which filter: the filter's author, on a plan with the feature, with the CRM
//! permission to see contacts; a view-only user syncs CRM → Google only.

use abi::{ContactsPermission, FilterId, Host, User, UserId, FEATURE_GOOGLE_CONTACTS};

/// Why a user may not enable sync on a filter, as a sentence for them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("This filter is not saved. Save it first, then turn on Google Contacts sync.")]
    NotSaved,
    #[error("Only the filter's author can sync it with Google Contacts.")]
    NotAuthor,
    #[error(
        "Your plan does not include Google Contacts sync. Ask your CRM administrator to upgrade the plan."
    )]
    PlanLacksFeature,
    #[error("You have no permission to use contacts, so there is nothing to sync.")]
    NoContactsPermission,
    #[error("This filter no longer exists.")]
    NoFilter,
    #[error("Your CRM user could not be found.")]
    NoUser,
    #[error("The CRM could not be asked: {0}")]
    Host(String),
}

impl Refusal {
    /// The refusal in the reader's language (`Display` stays English, for logs).
    pub fn message(&self, r: &crate::locale::Reader) -> String {
        match self {
            Refusal::NotSaved => r.t("refusal-not-saved"),
            Refusal::NotAuthor => r.t("refusal-not-author"),
            Refusal::PlanLacksFeature => r.t("refusal-plan"),
            Refusal::NoContactsPermission => r.t("refusal-no-permission"),
            Refusal::NoFilter => r.t("refusal-no-filter"),
            Refusal::NoUser => r.t("refusal-no-user"),
            Refusal::Host(reason) => r.t_with("refusal-host", &[("reason", reason.as_str().into())]),
        }
    }
}

pub struct Allowed {
    /// The user may only read contacts: sync runs CRM → Google.
    pub view_only: bool,
}

pub fn user(host: &Host, user: UserId) -> Result<User, Refusal> {
    host.user(user)
        .into_result()
        .map_err(|e| Refusal::Host(e.to_string()))?
        .into_option()
        .ok_or(Refusal::NoUser)
}

pub fn check_plan(user: &User) -> Result<(), Refusal> {
    if !user
        .plan
        .features
        .iter()
        .any(|f| f.as_str() == FEATURE_GOOGLE_CONTACTS)
    {
        return Err(Refusal::PlanLacksFeature);
    }
    if user.contacts_permission == ContactsPermission::None {
        return Err(Refusal::NoContactsPermission);
    }
    Ok(())
}

/// Whether `user` may sync `filter`.
pub fn may_sync(host: &Host, user_id: UserId, filter_id: FilterId) -> Result<Allowed, Refusal> {
    let filter = host
        .filter(filter_id)
        .into_result()
        .map_err(|e| Refusal::Host(e.to_string()))?
        .into_option()
        .ok_or(Refusal::NoFilter)?;
    if !filter.saved {
        return Err(Refusal::NotSaved);
    }
    if filter.author != user_id {
        return Err(Refusal::NotAuthor);
    }
    let user = user(host, user_id)?;
    check_plan(&user)?;
    let view_only = user.contacts_permission == ContactsPermission::View;
    Ok(Allowed { view_only })
}
