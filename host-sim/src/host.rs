//! The services the CRM lends each plugin ([`abi::HostServices`]).

use std::sync::Arc;

use abi::{
    Contact, ContactId, FilterId, HostError, HostErrorKind, HostOffers, HostServices, Job, LogLevel, Millis,
    Notice, SavedFilter, User, UserId, UserLocale,
};
use abi_stable::std_types::{ROption, RResult, RStr, RString, RVec};

use crate::crm::{CrmError, Visibility};
use crate::sim::Shared;

/// The longest create key the CRM stores ([`HostServices::create_contact_once`]).
const MAX_CREATE_KEY: usize = 200;

/// One plugin's view of the host.
#[derive(Clone)]
pub struct SimHost {
    pub(crate) plugin: String,
    pub(crate) shared: Arc<Shared>,
}

fn host_error(e: CrmError) -> HostError {
    let kind = match e {
        CrmError::NoUser(_) | CrmError::NoContact(_) | CrmError::NoFilter(_) => HostErrorKind::NotFound,
        CrmError::Forbidden { .. } | CrmError::ReadOnly(_) => HostErrorKind::Forbidden,
        CrmError::Journal(_) => HostErrorKind::Unavailable,
    };
    HostError::new(kind, e.to_string())
}

fn io_error(e: std::io::Error) -> HostError {
    HostError::new(
        HostErrorKind::Unavailable,
        format!("The CRM's secret store failed: {e}"),
    )
}

impl HostServices for SimHost {
    fn filter_contacts(
        &self,
        filter: FilterId,
        user: UserId,
        after: ContactId,
        limit: u32,
    ) -> RResult<RVec<Contact>, HostError> {
        self.shared
            .crm
            .filter_contacts(filter, user, after, limit as usize)
            .map(RVec::from)
            .map_err(host_error)
            .into()
    }

    fn filter_includes(
        &self,
        filter: FilterId,
        user: UserId,
        contact: ContactId,
    ) -> RResult<bool, HostError> {
        self.shared
            .crm
            .filter_includes(filter, user, contact)
            .map_err(host_error)
            .into()
    }

    fn get_contact(&self, user: UserId, contact: ContactId) -> RResult<ROption<Contact>, HostError> {
        self.shared
            .crm
            .contact_as(user, contact)
            .map(ROption::from)
            .map_err(host_error)
            .into()
    }

    fn create_contact(
        &self,
        user: UserId,
        contact: &Contact,
        into_filter: ROption<FilterId>,
    ) -> RResult<Contact, HostError> {
        let mut contact = contact.clone();
        contact.updated_at_ms = self.shared.clock.now().0;
        self.shared
            .plugin_writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let created =
            self.shared
                .crm
                .create_contact(user, contact, Visibility::Everyone, into_filter.into_option());
        if let Ok(c) = &created {
            self.shared
                .notify_contact(c.id, abi::ChangeKind::Created, Some(user));
        }
        self.answer_of_create(created)
    }

    fn create_contact_once(
        &self,
        user: UserId,
        key: RStr<'_>,
        contact: &Contact,
        into_filter: ROption<FilterId>,
    ) -> ROption<RResult<Contact, HostError>> {
        if key.len() > MAX_CREATE_KEY {
            return ROption::RSome(RResult::RErr(HostError::new(
                HostErrorKind::Invalid,
                format!("A create key is at most {MAX_CREATE_KEY} bytes."),
            )));
        }
        let mut contact = contact.clone();
        contact.updated_at_ms = self.shared.clock.now().0;
        let created = self.shared.crm.create_contact_once(
            user,
            &self.create_key(key),
            contact,
            Visibility::Everyone,
            into_filter.into_option(),
        );
        let answer = created.map(|(c, new)| {
            // Only a contact this call made is news (and a write); a repeated key wrote nothing.
            if new {
                self.shared
                    .plugin_writes
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                self.shared
                    .notify_contact(c.id, abi::ChangeKind::Created, Some(user));
            }
            c
        });
        ROption::RSome(self.answer_of_create(answer))
    }

    fn update_contact(&self, user: UserId, contact: &Contact) -> RResult<Contact, HostError> {
        let mut contact = contact.clone();
        contact.updated_at_ms = self.shared.clock.now().0;
        self.shared
            .plugin_writes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let updated = self.shared.crm.update_contact(user, contact);
        if let Ok(c) = &updated {
            self.shared
                .notify_contact(c.id, abi::ChangeKind::Updated, Some(user));
        }
        updated.map_err(host_error).into()
    }

    fn user(&self, user: UserId) -> RResult<ROption<User>, HostError> {
        RResult::ROk(self.shared.crm.user(user).into())
    }

    fn filter(&self, filter: FilterId) -> RResult<ROption<SavedFilter>, HostError> {
        RResult::ROk(self.shared.crm.filter(filter).into())
    }

    fn may_access(&self, user: UserId, contact: ContactId) -> RResult<bool, HostError> {
        RResult::ROk(self.shared.crm.may_access(user, contact))
    }

    fn submit_job(&self, job: Job) -> RResult<(), HostError> {
        if self.shared.submit_job(&self.plugin, job) {
            RResult::ROk(())
        } else {
            RResult::RErr(HostError::new(
                HostErrorKind::Unavailable,
                "The CRM is shutting down.",
            ))
        }
    }

    fn data_dir(&self) -> RString {
        self.shared
            .plugin_data_dir(&self.plugin)
            .to_string_lossy()
            .into_owned()
            .into()
    }

    fn secret_get(&self, key: RStr<'_>) -> RResult<ROption<RString>, HostError> {
        RResult::ROk(
            self.shared
                .secrets
                .get(&self.secret_key(key))
                .map(RString::from)
                .into(),
        )
    }

    fn secret_set(&self, key: RStr<'_>, value: RStr<'_>) -> RResult<(), HostError> {
        self.shared
            .secrets
            .set(&self.secret_key(key), value.as_str())
            .map_err(io_error)
            .into()
    }

    fn secret_delete(&self, key: RStr<'_>) -> RResult<(), HostError> {
        self.shared
            .secrets
            .delete(&self.secret_key(key))
            .map_err(io_error)
            .into()
    }

    fn now(&self) -> Millis {
        self.shared.clock.now()
    }

    fn log(&self, level: LogLevel, target: RStr<'_>, message: RStr<'_>) {
        self.shared
            .logbook
            .write(level, target.as_str(), message.as_str());
    }

    fn config(&self, key: RStr<'_>) -> ROption<RString> {
        self.shared
            .config
            .get(key.as_str())
            .map(|v| RString::from(v.as_str()))
            .into()
    }

    // ----- since ABI 0.1.1; a host configured without a service answers as a 0.1.0 host's
    // vtable makes the plugin answer itself (the trait's defaults) -----

    fn offers(&self) -> HostOffers {
        self.shared.offers
    }

    fn user_locale(&self, user: UserId) -> ROption<UserLocale> {
        if !self.shared.offers.contains(HostOffers::LOCALES) {
            return ROption::RNone;
        }
        let locale = self.shared.locales.of(user);
        ROption::RSome(UserLocale {
            language: locale.language.into(),
            time_zone: locale.time_zone.into(),
        })
    }

    fn raise_notice(&self, notice: &Notice) -> RResult<(), HostError> {
        if !self.shared.offers.contains(HostOffers::NOTICES) {
            return RResult::RErr(no_notices());
        }
        self.shared
            .notices
            .raise(&self.plugin, notice, self.shared.clock.now().0);
        RResult::ROk(())
    }

    fn withdraw_notice(&self, user: UserId, key: RStr<'_>) -> RResult<(), HostError> {
        if !self.shared.offers.contains(HostOffers::NOTICES) {
            return RResult::RErr(no_notices());
        }
        self.shared
            .notices
            .withdraw(&self.plugin, user, key.as_str(), self.shared.clock.now().0);
        RResult::ROk(())
    }
}

fn no_notices() -> HostError {
    HostError::new(
        HostErrorKind::Unavailable,
        "This CRM is configured without notices.",
    )
}

impl SimHost {
    /// Secrets are kept per plugin, so one plugin never reads another's tokens.
    fn secret_key(&self, key: RStr<'_>) -> String {
        format!("{}/{}", self.plugin, key.as_str())
    }

    /// What the plugin hears of a create: its result, unless a test made the CRM lose it.
    fn answer_of_create(&self, created: Result<Contact, CrmError>) -> RResult<Contact, HostError> {
        if created.is_ok() && self.shared.crm.create_answer_lost() {
            return RResult::RErr(HostError::new(
                HostErrorKind::Unavailable,
                "The CRM did not answer; try again.",
            ));
        }
        created.map_err(host_error).into()
    }

    /// Create keys are kept per plugin too: two plugins choosing the same key create two contacts.
    fn create_key(&self, key: RStr<'_>) -> String {
        format!("{}/{}", self.plugin, key.as_str())
    }
}
