//! The sync's CRM side, implemented over the host's services (the remote side is in
//! [`super::people`]).

use abi::{Contact, ContactId, FilterId, Host, HostError, UserId};
use abi_stable::std_types::ROption;

use crate::sync::sides::CrmSide;

pub struct HostCrm<'a>(pub &'a Host);

impl CrmSide for HostCrm<'_> {
    fn filter_page(&self, filter: u64, user: u64, after: u64, limit: u32) -> Result<Vec<Contact>, HostError> {
        let page = self
            .0
            .filter_contacts(FilterId(filter), UserId(user), ContactId(after), limit);
        page.into_result().map(|v| v.into_vec())
    }

    fn includes(&self, filter: u64, user: u64, contact: u64) -> Result<bool, HostError> {
        self.0
            .filter_includes(FilterId(filter), UserId(user), ContactId(contact))
            .into_result()
    }

    fn get(&self, user: u64, contact: u64) -> Result<Option<Contact>, HostError> {
        self.0
            .get_contact(UserId(user), ContactId(contact))
            .into_result()
            .map(ROption::into_option)
    }

    fn create_once(
        &self,
        user: u64,
        key: &str,
        contact: &Contact,
        filter: u64,
    ) -> Result<Option<Contact>, HostError> {
        let into = ROption::RSome(FilterId(filter));
        match self
            .0
            .create_contact_once(UserId(user), key.into(), contact, into)
        {
            ROption::RSome(answer) => answer.into_result().map(Some),
            ROption::RNone => {
                warn_no_idempotent_create(self.0);
                Ok(None)
            }
        }
    }

    fn create(&self, user: u64, contact: &Contact, filter: u64) -> Result<Contact, HostError> {
        self.0
            .create_contact(UserId(user), contact, ROption::RSome(FilterId(filter)))
            .into_result()
    }

    fn update(&self, user: u64, contact: &Contact) -> Result<Contact, HostError> {
        self.0.update_contact(UserId(user), contact).into_result()
    }

    fn filter_name(&self, filter: u64) -> Result<Option<String>, HostError> {
        let f = self.0.filter(FilterId(filter)).into_result()?;
        Ok(f.into_option().map(|f| f.name.into_string()))
    }
}

/// Said once per process: a CRM without `create_contact_once` (older than it, or choosing not
/// to offer it) gets plain creates, and an import a crash interrupted is then left to matching,
/// which cannot join a Google contact with neither e-mail nor phone to its CRM contact.
fn warn_no_idempotent_create(host: &Host) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        host.log(
            abi::LogLevel::Warn,
            module_path!().into(),
            "This CRM does not offer idempotent creates (create_contact_once): contacts imported \
             from Google are created with create_contact, and a crash during an import may leave \
             a duplicate. Update the CRM to remove this risk."
                .into(),
        );
    });
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use abi::{HostError, HostServices, HostServices_TO, Job, LogLevel, Millis, SavedFilter, User, UserId};
    use abi_stable::sabi_trait::TD_Opaque;
    use abi_stable::std_types::{RArc, RResult, RStr, RString, RVec};

    use super::*;

    /// A CRM built before `create_contact_once` existed, as far as the plugin can tell: it keeps
    /// the method's default. It records the creates it is asked for and its log lines.
    #[derive(Clone, Default)]
    struct OlderHost {
        creates: Arc<Mutex<Vec<Contact>>>,
        logged: Arc<Mutex<Vec<String>>>,
    }

    fn none<T>() -> RResult<ROption<T>, HostError> {
        RResult::ROk(ROption::RNone)
    }

    impl HostServices for OlderHost {
        fn filter_contacts(
            &self,
            _: FilterId,
            _: UserId,
            _: ContactId,
            _: u32,
        ) -> RResult<RVec<Contact>, HostError> {
            RResult::ROk(RVec::new())
        }
        fn filter_includes(&self, _: FilterId, _: UserId, _: ContactId) -> RResult<bool, HostError> {
            RResult::ROk(false)
        }
        fn get_contact(&self, _: UserId, _: ContactId) -> RResult<ROption<Contact>, HostError> {
            none()
        }
        fn create_contact(
            &self,
            _: UserId,
            contact: &Contact,
            _: ROption<FilterId>,
        ) -> RResult<Contact, HostError> {
            let mut creates = self.creates.lock().unwrap();
            let mut created = contact.clone();
            created.id = ContactId(creates.len() as u64 + 1);
            creates.push(created.clone());
            RResult::ROk(created)
        }
        fn update_contact(&self, _: UserId, contact: &Contact) -> RResult<Contact, HostError> {
            RResult::ROk(contact.clone())
        }
        fn user(&self, _: UserId) -> RResult<ROption<User>, HostError> {
            none()
        }
        fn filter(&self, _: FilterId) -> RResult<ROption<SavedFilter>, HostError> {
            none()
        }
        fn may_access(&self, _: UserId, _: ContactId) -> RResult<bool, HostError> {
            RResult::ROk(false)
        }
        fn submit_job(&self, _: Job) -> RResult<(), HostError> {
            RResult::ROk(())
        }
        fn data_dir(&self) -> RString {
            RString::new()
        }
        fn secret_get(&self, _: RStr<'_>) -> RResult<ROption<RString>, HostError> {
            none()
        }
        fn secret_set(&self, _: RStr<'_>, _: RStr<'_>) -> RResult<(), HostError> {
            RResult::ROk(())
        }
        fn secret_delete(&self, _: RStr<'_>) -> RResult<(), HostError> {
            RResult::ROk(())
        }
        fn now(&self) -> Millis {
            Millis(0)
        }
        fn log(&self, _: LogLevel, _: RStr<'_>, message: RStr<'_>) {
            self.logged.lock().unwrap().push(message.to_string());
        }
        fn config(&self, _: RStr<'_>) -> ROption<RString> {
            ROption::RNone
        }
    }

    #[test]
    fn a_crm_without_idempotent_creates_says_it_creates_nothing_once_per_key_and_warns_once() {
        let older = OlderHost::default();
        let host: Host = HostServices_TO::from_ptr(RArc::new(older.clone()), TD_Opaque);
        let crm = HostCrm(&host);
        let first = crm.create_once(1, "import/1/a", &Contact::default(), 7).unwrap();
        let second = crm.create_once(1, "import/1/b", &Contact::default(), 7).unwrap();
        assert_eq!((first, second), (None, None));
        assert!(older.creates.lock().unwrap().is_empty());
        assert_eq!(crm.create(1, &Contact::default(), 7).unwrap().id, ContactId(1));
        let logged = older.logged.lock().unwrap();
        assert_eq!(logged.len(), 1, "{logged:?}");
        assert!(logged[0].contains("create_contact_once"), "{}", logged[0]);
    }
}
