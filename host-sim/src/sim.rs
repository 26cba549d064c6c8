//! The running CRM: plugins loaded from a plugin directory, the CRM model, the worker pool,
//! the tick scheduler and the services lent to plugins, wired together.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use abi::{
    ActionOutcome, ChangeKind, Contact, ContactChange, ContactId, Job, Millis, PluginBox, PluginError,
    SavedFilter, SettingsAction, SettingsContext, SettingsPage, SettingsView, UserId,
};
use abi_stable::sabi_trait::TD_Opaque;
use abi_stable::std_types::{ROption, RResult};

use crate::clock::Clock;
use crate::crm::{Crm, CrmError, Visibility};
use crate::host::SimHost;
use crate::loader::{load_plugin_dir_as, HostAbi, LoadError, LoadedLibrary, PluginModule};
use crate::locales::Locales;
use crate::logbook::Logbook;
use crate::notices::Notices;
use crate::secrets::SecretStore;
use crate::workers::WorkerPool;

pub struct SimConfig {
    pub plugin_dir: PathBuf,
    /// Where the CRM keeps its journal, its secret store and each plugin's data directory.
    /// `None`: everything in memory and a temporary directory.
    pub state_dir: PathBuf,
    pub workers: usize,
    pub tick_period_ms: i64,
    /// `Some(start)`: a manual clock for tests; `None`: real time.
    pub manual_clock: Option<Millis>,
    /// Configuration handed to plugins (`google.people_url`, …).
    pub plugin_config: BTreeMap<String, String>,
    /// The URL of the CRM's OAuth callback, given to plugins in [`SettingsContext`].
    pub oauth_callback_url: String,
    /// The optional services (ABI 0.1.1 and later) this CRM offers plugins; `HostOffers::NONE`
    /// makes it answer as a host built against ABI 0.1.0.
    pub offers: abi::HostOffers,
    /// The ABI this CRM presents to plugins; [`HostAbi::V0_1_0`] is a CRM built against 0.1.0.
    pub abi: HostAbi,
}

impl SimConfig {
    pub fn new(plugin_dir: &Path, state_dir: &Path) -> Self {
        SimConfig {
            plugin_dir: plugin_dir.to_path_buf(),
            state_dir: state_dir.to_path_buf(),
            workers: 4,
            tick_period_ms: 60_000,
            manual_clock: None,
            plugin_config: BTreeMap::new(),
            oauth_callback_url: "http://127.0.0.1/oauth/callback".into(),
            offers: abi::HostOffers::LOCALES
                .with(abi::HostOffers::NOTICES)
                .with(abi::HostOffers::DOWNLOADS)
                .with(abi::HostOffers::CONTACT_PANELS),
            abi: HostAbi::Current,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error("The CRM state directory {dir} could not be used: {reason}")]
    State { dir: PathBuf, reason: String },
    #[error("The plugin {name} ({path}) failed to start: {message}")]
    PluginStart {
        name: String,
        path: PathBuf,
        message: String,
    },
}

/// A loaded plugin and its live instance.
pub struct LoadedPlugin {
    pub library: LoadedLibrary,
    pub instance: PluginBox,
}

/// What the host's services share.
pub struct Shared {
    pub crm: Crm,
    pub secrets: SecretStore,
    pub clock: Clock,
    pub logbook: Logbook,
    pub config: BTreeMap<String, String>,
    pub offers: abi::HostOffers,
    pub locales: Locales,
    pub notices: Notices,
    state_dir: PathBuf,
    plugins: RwLock<Vec<Arc<LoadedPlugin>>>,
    pool: RwLock<Option<Arc<WorkerPool>>>,
    /// Errors hooks returned, newest last, for inspection.
    pub hook_errors: Mutex<Vec<String>>,
    /// The instants at which ticks were delivered.
    pub ticks: Mutex<Vec<Millis>>,
    /// Contacts created or updated by plugins through the host's services.
    pub plugin_writes: std::sync::atomic::AtomicU64,
}

impl Shared {
    pub(crate) fn plugin_data_dir(&self, plugin: &str) -> PathBuf {
        self.state_dir.join("plugins").join(plugin)
    }

    pub(crate) fn submit_job(&self, plugin: &str, job: Job) -> bool {
        match self.pool.read().expect("pool lock poisoned").as_ref() {
            Some(pool) => pool.submit(plugin, job),
            None => false,
        }
    }

    fn plugins(&self) -> Vec<Arc<LoadedPlugin>> {
        self.plugins.read().expect("plugin lock poisoned").clone()
    }

    fn plugin(&self, name: &str) -> Option<Arc<LoadedPlugin>> {
        self.plugins().into_iter().find(|p| p.library.name == name)
    }

    /// Records a hook's error; returns it for the caller.
    fn check<T>(&self, plugin: &str, hook: &str, result: RResult<T, PluginError>) -> Result<T, PluginError> {
        result.into_result().inspect_err(|e| {
            let line = format!("{plugin}: {hook} failed: {}", e.message);
            self.logbook.write(abi::LogLevel::Error, "host", &line);
            self.hook_errors
                .lock()
                .expect("hook error lock poisoned")
                .push(line);
        })
    }

    /// Tells every plugin about a contact change.
    pub(crate) fn notify_contact(&self, id: ContactId, kind: ChangeKind, by: Option<UserId>) {
        let change = ContactChange {
            contact: id,
            kind,
            by: by.into(),
            at: self.clock.now(),
        };
        for p in self.plugins() {
            let _ = self.check(
                &p.library.name,
                "on_contact_changed",
                p.instance.on_contact_changed(&change),
            );
        }
    }
}

pub struct Sim {
    shared: Arc<Shared>,
    pool: Arc<WorkerPool>,
    tick_period_ms: i64,
    next_tick: Mutex<i64>,
    ticker: Mutex<Option<std::thread::JoinHandle<()>>>,
    stopping: Arc<AtomicBool>,
    oauth_callback_url: String,
}

impl Sim {
    /// Loads every plugin in the plugin directory and starts them.
    pub fn start(config: SimConfig) -> Result<Arc<Sim>, StartError> {
        let libraries = load_plugin_dir_as(&config.plugin_dir, config.abi)?;
        let state_error = |e: &dyn std::fmt::Display| StartError::State {
            dir: config.state_dir.clone(),
            reason: e.to_string(),
        };
        std::fs::create_dir_all(&config.state_dir).map_err(|e| state_error(&e))?;
        let shared = Arc::new(Shared {
            crm: Crm::open(&config.state_dir).map_err(|e| state_error(&e))?,
            secrets: SecretStore::open(&config.state_dir.join("secrets.json"))
                .map_err(|e| state_error(&e))?,
            clock: config.manual_clock.map(Clock::manual).unwrap_or_else(Clock::real),
            logbook: Logbook::default(),
            config: config.plugin_config.clone(),
            offers: config.offers,
            locales: Locales::open(&config.state_dir.join("locales.json")).map_err(|e| state_error(&e))?,
            notices: Notices::default(),
            state_dir: config.state_dir.clone(),
            plugins: RwLock::new(Vec::new()),
            pool: RwLock::new(None),
            hook_errors: Mutex::new(Vec::new()),
            ticks: Mutex::new(Vec::new()),
            plugin_writes: std::sync::atomic::AtomicU64::new(0),
        });
        let pool = Arc::new(WorkerPool::start(config.workers, job_runner(&shared)));
        *shared.pool.write().expect("pool lock poisoned") = Some(pool.clone());
        for library in libraries {
            let dir = shared.plugin_data_dir(&library.name);
            std::fs::create_dir_all(&dir).map_err(|e| state_error(&e))?;
            let sim_host = SimHost {
                plugin: library.name.clone(),
                shared: shared.clone(),
            };
            let started = match &library.module {
                PluginModule::Current(module) => {
                    let host: abi::Host =
                        abi::HostServices_TO::from_ptr(abi_stable::std_types::RArc::new(sim_host), TD_Opaque);
                    (module.new())(host).into_result()
                }
                PluginModule::V0_1_0(module) => module.start(sim_host),
            };
            let instance = started.map_err(|e| StartError::PluginStart {
                name: library.name.clone(),
                path: library.path.clone(),
                message: e.message.to_string(),
            })?;
            shared
                .plugins
                .write()
                .expect("plugin lock poisoned")
                .push(Arc::new(LoadedPlugin { library, instance }));
        }
        let first_tick = shared.clock.now().0 + config.tick_period_ms;
        let sim = Arc::new(Sim {
            shared,
            pool,
            tick_period_ms: config.tick_period_ms.max(1),
            next_tick: Mutex::new(first_tick),
            ticker: Mutex::new(None),
            stopping: Arc::new(AtomicBool::new(false)),
            oauth_callback_url: config.oauth_callback_url,
        });
        if !sim.shared.clock.is_manual() {
            sim.start_ticker();
        }
        Ok(sim)
    }

    fn start_ticker(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        let stopping = self.stopping.clone();
        let handle = std::thread::Builder::new()
            .name("ticker".into())
            .spawn(move || {
                while !stopping.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(50));
                    match weak.upgrade() {
                        Some(sim) => sim.fire_due_ticks(),
                        None => return,
                    }
                }
            })
            .ok();
        *self.ticker.lock().expect("ticker lock poisoned") = handle;
    }

    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub fn crm(&self) -> &Crm {
        &self.shared.crm
    }

    pub fn logbook(&self) -> &Logbook {
        &self.shared.logbook
    }

    pub fn clock(&self) -> &Clock {
        &self.shared.clock
    }

    pub fn secrets(&self) -> &SecretStore {
        &self.shared.secrets
    }

    pub fn plugin_names(&self) -> Vec<String> {
        self.shared
            .plugins()
            .iter()
            .map(|p| p.library.name.clone())
            .collect()
    }

    pub fn plugin_data_dir(&self, plugin: &str) -> PathBuf {
        self.shared.plugin_data_dir(plugin)
    }

    pub fn hook_errors(&self) -> Vec<String> {
        self.shared
            .hook_errors
            .lock()
            .expect("hook error lock poisoned")
            .clone()
    }

    /// How many contacts plugins created or updated in the CRM so far.
    pub fn plugin_writes(&self) -> u64 {
        self.shared.plugin_writes.load(Ordering::SeqCst)
    }

    pub fn ticks(&self) -> Vec<Millis> {
        self.shared.ticks.lock().expect("tick lock poisoned").clone()
    }

    /// Moves the clock forward and delivers the ticks that fall due.
    pub fn advance(&self, ms: i64) {
        self.shared.clock.advance(ms);
        self.fire_due_ticks();
    }

    /// Delivers every tick whose time has come, one per period, in order.
    pub fn fire_due_ticks(&self) {
        let now = self.shared.clock.now().0;
        loop {
            let due = {
                let mut next = self.next_tick.lock().expect("tick lock poisoned");
                if *next > now {
                    return;
                }
                let due = *next;
                *next += self.tick_period_ms;
                due
            };
            self.tick(Millis(due));
        }
    }

    /// Delivers one tick now, whatever the schedule.
    pub fn tick(&self, at: Millis) {
        self.shared.ticks.lock().expect("tick lock poisoned").push(at);
        for p in self.shared.plugins() {
            let _ = self
                .shared
                .check(&p.library.name, "on_tick", p.instance.on_tick(at));
        }
    }

    /// Waits until no plugin job is queued or running.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        self.pool.wait_idle(timeout)
    }

    pub fn pending_jobs(&self) -> usize {
        self.pool.pending()
    }

    // ----- CRM changes, told to plugins -----

    pub fn create_contact(
        &self,
        owner: UserId,
        contact: Contact,
        visibility: Visibility,
    ) -> Result<Contact, CrmError> {
        let mut contact = contact;
        contact.updated_at_ms = self.shared.clock.now().0;
        let created = self.shared.crm.create_contact(owner, contact, visibility, None)?;
        self.shared
            .notify_contact(created.id, ChangeKind::Created, Some(owner));
        Ok(created)
    }

    pub fn update_contact(&self, user: UserId, contact: Contact) -> Result<Contact, CrmError> {
        let mut contact = contact;
        contact.updated_at_ms = self.shared.clock.now().0;
        let updated = self.shared.crm.update_contact(user, contact)?;
        self.shared
            .notify_contact(updated.id, ChangeKind::Updated, Some(user));
        Ok(updated)
    }

    pub fn delete_contact(&self, id: ContactId, by: Option<UserId>) -> Result<(), CrmError> {
        self.shared.crm.delete_contact(id)?;
        self.shared.notify_contact(id, ChangeKind::Deleted, by);
        Ok(())
    }

    pub fn set_access(&self, id: ContactId, owner: UserId, visibility: Visibility) -> Result<(), CrmError> {
        self.shared.crm.set_access(id, owner, visibility)?;
        self.shared.notify_contact(id, ChangeKind::AccessChanged, None);
        Ok(())
    }

    /// Saves a filter and tells plugins.
    pub fn save_filter(&self, filter: SavedFilter) -> Result<SavedFilter, CrmError> {
        let saved = self.shared.crm.save_filter(filter)?;
        for p in self.shared.plugins() {
            let _ = self.shared.check(
                &p.library.name,
                "on_filter_saved",
                p.instance.on_filter_saved(&saved),
            );
        }
        Ok(saved)
    }

    // ----- settings -----

    pub fn settings_context(&self, user: UserId, page: SettingsPage) -> SettingsContext {
        SettingsContext {
            user,
            page,
            oauth_callback_url: self.oauth_callback_url.as_str().into(),
        }
    }

    pub fn render_settings(
        &self,
        plugin: &str,
        user: UserId,
        page: SettingsPage,
    ) -> Result<SettingsView, PluginError> {
        let p = self.require(plugin)?;
        let ctx = self.settings_context(user, page);
        self.shared
            .check(plugin, "render_settings", p.instance.render_settings(&ctx))
    }

    pub fn settings_action(
        &self,
        plugin: &str,
        user: UserId,
        page: SettingsPage,
        action: SettingsAction,
    ) -> Result<ActionOutcome, PluginError> {
        let p = self.require(plugin)?;
        let ctx = self.settings_context(user, page);
        self.shared.check(
            plugin,
            "handle_settings_action",
            p.instance.handle_settings_action(&ctx, &action),
        )
    }

    /// The file `action` asks for, when the plugin answers it with one (ABI 0.1.2); host-sim
    /// asks only when it offers downloads.
    pub fn download(
        &self,
        plugin: &str,
        user: UserId,
        page: SettingsPage,
        action: &SettingsAction,
    ) -> Result<Option<abi::Download>, PluginError> {
        if !self.shared.offers.contains(abi::HostOffers::DOWNLOADS) {
            return Ok(None);
        }
        let p = self.require(plugin)?;
        let ctx = self.settings_context(user, page);
        self.shared
            .check(plugin, "download", p.instance.download(&ctx, action))
            .map(ROption::into_option)
    }

    /// The plugin's panel on the page of `contact` (ABI 0.1.2), when host-sim offers contact
    /// panels, the user may see the contact and the plugin has something to show.
    pub fn render_contact_panel(
        &self,
        plugin: &str,
        user: UserId,
        contact: ContactId,
    ) -> Result<Option<SettingsView>, PluginError> {
        if !self.shared.offers.contains(abi::HostOffers::CONTACT_PANELS)
            || !self.shared.crm.may_access(user, contact)
        {
            return Ok(None);
        }
        let p = self.require(plugin)?;
        let ctx = self.settings_context(user, SettingsPage::Integration);
        self.shared
            .check(
                plugin,
                "render_contact_panel",
                p.instance.render_contact_panel(&ctx, contact),
            )
            .map(ROption::into_option)
    }

    fn require(&self, plugin: &str) -> Result<Arc<LoadedPlugin>, PluginError> {
        self.shared.plugin(plugin).ok_or_else(|| {
            PluginError::new(
                abi::PluginErrorKind::Rejected,
                format!("No plugin named \"{plugin}\" is loaded."),
            )
        })
    }

    /// Stops ticks and workers, then tells plugins to shut down.
    pub fn shutdown(&self) {
        if self.stopping.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(handle) = self.ticker.lock().expect("ticker lock poisoned").take() {
            let _ = handle.join();
        }
        for p in self.shared.plugins() {
            let _ = self
                .shared
                .check(&p.library.name, "shutdown", p.instance.shutdown());
        }
        self.pool.stop();
        // Unload: each instance holds the host's services, which hold the plugin list, so the
        // instances must be dropped here or neither side is ever freed (their SQLite files,
        // HTTP clients and threads stayed open: a 2,000-seed simulation ran out of descriptors).
        self.shared.plugins.write().expect("plugin lock poisoned").clear();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn job_runner(shared: &Arc<Shared>) -> crate::workers::Runner {
    let weak = Arc::downgrade(shared);
    Arc::new(move |plugin: &str, job: &Job| {
        let Some(shared) = weak.upgrade() else { return };
        if let Some(p) = shared.plugin(plugin) {
            let _ = shared.check(plugin, "run_job", p.instance.run_job(job));
        }
    })
}
