//! Finds and loads plugin libraries from a plugin directory, as a CRM does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use abi::PluginMod_Ref;
use abi_stable::library::{lib_header_from_path, LibraryError, RootModule};

/// A plugin library that passed every check.
#[derive(Clone)]
pub struct LoadedLibrary {
    pub path: PathBuf,
    pub name: String,
    pub module: PluginModule,
}

/// A plugin's root module, by the ABI version it was built against.
#[derive(Clone, Copy)]
pub enum PluginModule {
    Current(PluginMod_Ref),
    /// Built against ABI 0.1.0, or 0.1.1 (whose longer `HostServices` the 0.1.0 types accept):
    /// loaded and called through the frozen 0.1.0 types.
    V0_1_0(crate::older_abi::V0_1_0Module),
}

impl PluginModule {
    /// The ABI version the plugin was built against, as this host calls it.
    pub fn abi_version(&self) -> &'static str {
        match self {
            PluginModule::Current(_) => "current",
            PluginModule::V0_1_0(_) => "0.1.0",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("The plugin directory {0} does not exist. Create it and copy the plugin's .so file into it.")]
    DirMissing(PathBuf),
    #[error("The plugin directory {dir} could not be read ({reason}). Check its permissions.")]
    DirUnreadable { dir: PathBuf, reason: String },
    #[error(
        "The plugin directory {0} holds no plugin library (*.{ext}). Copy the plugin's file \
         (libcrm_google_contacts.{ext}) into it.",
        ext = std::env::consts::DLL_EXTENSION
    )]
    DirEmpty(PathBuf),
    #[error("{path} is not a loadable shared library ({reason}). Remove it from the plugin directory or replace it with a build of the plugin for this system.")]
    NotALibrary { path: PathBuf, reason: String },
    #[error("{path} is a shared library but not a CRM plugin: it exports no plugin root module. Remove it from the plugin directory.")]
    NotAPlugin { path: PathBuf },
    #[error("{path} was built for ABI version {found}, but this CRM expects {expected}. Install the plugin build made for this CRM version.")]
    VersionMismatch {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("{path} does not match this CRM's plugin interface (it was built against a different ABI). Install the plugin build made for this CRM version. abi_stable's report:\n{report}")]
    AbiMismatch { path: PathBuf, report: String },
    #[error(
        "{path} and {first} are both the plugin \"{name}\". Remove one of them from the plugin directory."
    )]
    DuplicateName {
        path: PathBuf,
        first: PathBuf,
        name: String,
    },
}

/// The ABI a CRM is built against, as far as its plugins can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostAbi {
    /// Today's: plugins of today's ABI load as they are, older supported ones through their
    /// frozen types.
    #[default]
    Current,
    /// As a CRM built against ABI 0.1.0: every plugin is loaded through the 0.1.0 types and sees
    /// the 0.1.0 `HostServices` vtable, without the services added since.
    V0_1_0,
}

/// Loads every plugin library in `dir`. Any bad file fails the whole load, naming the file:
/// a CRM should not start half its plugins silently.
pub fn load_plugin_dir(dir: &Path) -> Result<Vec<LoadedLibrary>, LoadError> {
    load_plugin_dir_as(dir, HostAbi::Current)
}

/// [`load_plugin_dir`] for a CRM built against `abi`.
pub fn load_plugin_dir_as(dir: &Path, abi: HostAbi) -> Result<Vec<LoadedLibrary>, LoadError> {
    let mut loaded = Vec::new();
    let mut by_name: HashMap<String, PathBuf> = HashMap::new();
    for path in library_files(dir)? {
        let library = match abi {
            HostAbi::Current => load_library(&path)?,
            HostAbi::V0_1_0 => load_library_as_v0_1_0(&path)?,
        };
        if let Some(first) = by_name.get(&library.name) {
            return Err(LoadError::DuplicateName {
                path,
                first: first.clone(),
                name: library.name,
            });
        }
        by_name.insert(library.name.clone(), path);
        loaded.push(library);
    }
    Ok(loaded)
}

fn library_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    if !dir.is_dir() {
        return Err(LoadError::DirMissing(dir.to_path_buf()));
    }
    let unreadable = |e: std::io::Error| LoadError::DirUnreadable {
        dir: dir.to_path_buf(),
        reason: e.to_string(),
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.extension().and_then(|e| e.to_str()) == Some(std::env::consts::DLL_EXTENSION) {
            files.push(path);
        }
    }
    if files.is_empty() {
        return Err(LoadError::DirEmpty(dir.to_path_buf()));
    }
    files.sort();
    Ok(files)
}

/// Loads one library as a CRM built against ABI 0.1.0 would.
fn load_library_as_v0_1_0(path: &Path) -> Result<LoadedLibrary, LoadError> {
    let header = lib_header_from_path(path).map_err(|e| classify(path, e))?;
    let module = crate::older_abi::load(header, path).map_err(|report| LoadError::AbiMismatch {
        path: path.to_path_buf(),
        report,
    })?;
    Ok(LoadedLibrary {
        path: path.to_path_buf(),
        name: module.name().into_string(),
        module: PluginModule::V0_1_0(module),
    })
}

/// Loads one library, checking the ABI version and the layout of every shared type.
pub fn load_library(path: &Path) -> Result<LoadedLibrary, LoadError> {
    // `lib_header_from_path` (not `RootModule::load_from_file`) so that several files can be
    // loaded in one process; the version and layout checks are the same.
    let header = lib_header_from_path(path).map_err(|e| classify(path, e))?;
    let module = match header.init_root_module::<PluginMod_Ref>() {
        Ok(module) => PluginModule::Current(module),
        // Built against an older ABI version this host still supports? Else the first report
        // stands: it is about today's interface, which is what a vendor should build against.
        Err(e @ LibraryError::AbiInstability(_)) => match crate::older_abi::load(header, path) {
            Ok(module) => PluginModule::V0_1_0(module),
            Err(_) => return Err(classify(path, e)),
        },
        Err(e) => return Err(classify(path, e)),
    };
    let name = match &module {
        PluginModule::Current(m) => (m.name())().into_string(),
        PluginModule::V0_1_0(m) => m.name().into_string(),
    };
    Ok(LoadedLibrary {
        path: path.to_path_buf(),
        name,
        module,
    })
}

fn classify(path: &Path, error: LibraryError) -> LoadError {
    let path = path.to_path_buf();
    match error {
        LibraryError::OpenError { err, .. } => NotALibrary {
            path,
            reason: err.to_string(),
        },
        LibraryError::GetSymbolError { .. } => LoadError::NotAPlugin { path },
        LibraryError::IncompatibleVersionNumber {
            expected_version,
            actual_version,
            ..
        } => LoadError::VersionMismatch {
            path,
            expected: expected_version.to_string(),
            found: actual_version.to_string(),
        },
        other => LoadError::AbiMismatch {
            path,
            report: other.to_string(),
        },
    }
}

use LoadError::NotALibrary;

/// The name of the plugin's library file on this system.
pub fn library_file_name() -> String {
    format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        PluginMod_Ref::BASE_NAME,
        std::env::consts::DLL_SUFFIX
    )
}
