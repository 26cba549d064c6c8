//! What the host offers the plugin.

use abi_stable::sabi_trait;
use abi_stable::std_types::{ROption, RResult, RStr, RString, RVec};
use abi_stable::StableAbi;

use crate::{
    Contact, ContactId, FilterId, HostError, HostErrorKind, Job, LogLevel, Millis, Notice, SavedFilter, User,
    UserId, UserLocale,
};

/// Services the host lends the plugin. The host hands one to [`PluginMod::new`](crate::PluginMod);
/// clones are cheap and may be used from any thread.
///
/// Every method that acts *as a user* applies that user's access rules exactly as the CRM's own
/// screens do: the plugin must never see or change what the user could not.
#[sabi_trait]
pub trait HostServices: Send + Sync + Clone {
    /// The contacts of `filter` that `user` may see, ordered by id, starting after `after`
    /// (exclusive; `ContactId(0)` for the first page), at most `limit` of them.
    fn filter_contacts(
        &self,
        filter: FilterId,
        user: UserId,
        after: ContactId,
        limit: u32,
    ) -> RResult<RVec<Contact>, HostError>;

    /// Whether `contact` currently belongs to `filter` and `user` may see it.
    fn filter_includes(&self, filter: FilterId, user: UserId, contact: ContactId)
        -> RResult<bool, HostError>;

    /// A contact as `user` sees it; `None` when it does not exist or the user may not see it.
    fn get_contact(&self, user: UserId, contact: ContactId) -> RResult<ROption<Contact>, HostError>;

    /// Creates a contact as `user`. With `into_filter`, the host sets whatever the filter's
    /// criteria need so that the new contact belongs to it. Returns the contact as stored.
    fn create_contact(
        &self,
        user: UserId,
        contact: &Contact,
        into_filter: ROption<FilterId>,
    ) -> RResult<Contact, HostError>;

    /// Replaces the syncable fields of `contact.id` as `user`. Returns the contact as stored.
    fn update_contact(&self, user: UserId, contact: &Contact) -> RResult<Contact, HostError>;

    /// A user; `None` when there is no such user.
    fn user(&self, user: UserId) -> RResult<ROption<User>, HostError>;

    /// A filter; `None` when there is no such filter.
    fn filter(&self, filter: FilterId) -> RResult<ROption<SavedFilter>, HostError>;

    /// Whether `user` may see `contact`.
    fn may_access(&self, user: UserId, contact: ContactId) -> RResult<bool, HostError>;

    /// Queues `job` on the host's worker pool; the host calls
    /// [`Plugin::run_job`](crate::Plugin::run_job) with it on a worker thread.
    fn submit_job(&self, job: Job) -> RResult<(), HostError>;

    /// A directory that belongs to this plugin alone and survives restarts.
    fn data_dir(&self) -> RString;

    /// A secret (OAuth tokens), from the host's secret store.
    fn secret_get(&self, key: RStr<'_>) -> RResult<ROption<RString>, HostError>;

    fn secret_set(&self, key: RStr<'_>, value: RStr<'_>) -> RResult<(), HostError>;

    fn secret_delete(&self, key: RStr<'_>) -> RResult<(), HostError>;

    /// The host's clock. Tests move it; the plugin never reads the system clock for sync logic.
    fn now(&self) -> Millis;

    /// Writes a line to the host's log.
    fn log(&self, level: LogLevel, target: RStr<'_>, message: RStr<'_>);

    /// A configuration value set by the CRM admin, e.g. `"google.people_url"`.
    #[sabi(last_prefix_field)]
    fn config(&self, key: RStr<'_>) -> ROption<RString>;

    // ----- Since 0.1.1: optional services. Each has a default, which is also what a plugin gets
    // from a host built against 0.1.0 (abi_stable calls the default when the host's vtable ends
    // before the method). Keep new methods together, below this line, each with a default.

    /// Which optional services this host offers. Hosts built against 0.1.0 answer
    /// [`HostOffers::NONE`].
    fn offers(&self) -> HostOffers {
        HostOffers::NONE
    }

    /// The language and time zone `user` sees the CRM in; `None` when the host does not offer
    /// locales (see [`HostOffers::LOCALES`]). For a user it does not know, a host that offers
    /// locales answers its own default.
    fn user_locale(&self, user: UserId) -> ROption<UserLocale> {
        let _ = user;
        ROption::RNone
    }

    /// Shows `notice` to its user, replacing a raised notice with the same `(user, key)`.
    fn raise_notice(&self, notice: &Notice) -> RResult<(), HostError> {
        let _ = notice;
        RResult::RErr(notices_not_offered())
    }

    /// Removes the notice `(user, key)`; withdrawing a notice that is not raised does nothing.
    fn withdraw_notice(&self, user: UserId, key: RStr<'_>) -> RResult<(), HostError> {
        let _ = (user, key);
        RResult::RErr(notices_not_offered())
    }

    /// Creates a contact as `user` exactly once per `key`: the same contract as
    /// [`create_contact`](HostServices::create_contact), but a later call with a key the host has
    /// seen returns the contact that key created (as `user` sees it now, `into_filter` ignored)
    /// instead of creating another. The plugin chooses the key (at most 200 bytes) and records it
    /// before calling, so a plugin that died before it learned the answer finishes its create
    /// after a restart without a duplicate.
    ///
    /// For CRM authors: store the key with the contact, unique per plugin, in the same write that
    /// creates it; it must survive a restart of the CRM. When that contact is deleted its key goes
    /// with it, and a later call with the key creates a new contact. Answer `RSome(result)`.
    ///
    /// `RNone` means "this host does not offer idempotent creates": the default, and what the
    /// plugin gets from a host built before this method existed (abi_stable runs a method's
    /// default body when the host's vtable lacks it). The plugin then calls `create_contact`, and
    /// leaves an import a crash interrupted to matching by e-mail and phone.
    fn create_contact_once(
        &self,
        user: UserId,
        key: RStr<'_>,
        contact: &Contact,
        into_filter: ROption<FilterId>,
    ) -> ROption<RResult<Contact, HostError>> {
        let _ = (user, key, contact, into_filter);
        ROption::RNone
    }
}

fn notices_not_offered() -> HostError {
    HostError::new(
        HostErrorKind::Unavailable,
        "This CRM does not show notices from plugins; the plugin's pages show the same state.",
    )
}

/// A set of optional host services (bits). New services get new bits: a set is never narrowed,
/// so a plugin can test for any bit it knows and treat unknown bits as absent.
#[repr(transparent)]
#[derive(StableAbi, Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct HostOffers(pub u32);

impl HostOffers {
    pub const NONE: HostOffers = HostOffers(0);
    /// [`HostServices::user_locale`] answers.
    pub const LOCALES: HostOffers = HostOffers(1);
    /// [`HostServices::raise_notice`] and [`HostServices::withdraw_notice`] show notices.
    pub const NOTICES: HostOffers = HostOffers(1 << 1);
    /// Since 0.1.2: the host calls [`Plugin::download`](crate::Plugin::download) for every action
    /// and hands a file it answers to the user.
    pub const DOWNLOADS: HostOffers = HostOffers(1 << 2);
    /// Since 0.1.2: the host shows [`Plugin::render_contact_panel`](crate::Plugin::render_contact_panel)
    /// on its contact pages.
    pub const CONTACT_PANELS: HostOffers = HostOffers(1 << 3);

    pub const fn contains(self, other: HostOffers) -> bool {
        self.0 & other.0 == other.0
    }

    pub const fn with(self, other: HostOffers) -> HostOffers {
        HostOffers(self.0 | other.0)
    }
}
