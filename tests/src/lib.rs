//! Shared pieces of the end-to-end tests: finding the built plugin library, laying out a
//! plugin directory, and starting host-sim on it. Tests load the plugin only through
//! host-sim's loader, never by linking the plugin crate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use host_sim::{Sim, SimConfig};

/// The library file cargo built for crate `lib_name` (e.g. `crm_google_contacts`), found next
/// to the running test executable (`target/<profile>/deps/`) or one level up.
pub fn built_library(lib_name: &str) -> PathBuf {
    let file = format!("{}{lib_name}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX);
    let exe = std::env::current_exe().expect("test executable path");
    let mut dir = exe.parent();
    while let Some(d) = dir {
        let candidate = d.join(&file);
        if candidate.is_file() {
            return candidate;
        }
        dir = d.parent();
        if d.file_name().is_some_and(|n| n == "target") {
            break;
        }
    }
    panic!("{file} was not built; run the tests with `cargo test --workspace`")
}

/// The plugin library, as a CRM admin would find it in the build output.
pub fn plugin_library() -> PathBuf {
    built_library("crm_google_contacts")
}

/// A fresh directory holding copies of `files` (source path, name in the directory).
pub fn plugin_dir_with(files: &[(&Path, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary plugin directory");
    for (source, name) in files {
        std::fs::copy(source, dir.path().join(name)).expect("copy library into plugin directory");
    }
    dir
}

/// A host-sim with the real plugin copied into its plugin directory.
pub struct World {
    pub sim: Arc<Sim>,
    pub plugin_dir: tempfile::TempDir,
    pub state_dir: tempfile::TempDir,
}

impl World {
    /// Starts host-sim with a manual clock at a fixed instant; `configure` adjusts the rest.
    pub fn start(configure: impl FnOnce(&mut SimConfig)) -> World {
        let plugin_dir = plugin_dir_with(&[(&plugin_library(), &host_sim::loader::library_file_name())]);
        let state_dir = tempfile::tempdir().expect("temporary state directory");
        let mut config = SimConfig::new(plugin_dir.path(), state_dir.path());
        config.manual_clock = Some(abi::Millis(1_795_000_000_000));
        configure(&mut config);
        let sim = Sim::start(config).unwrap_or_else(|e| panic!("host-sim failed to start: {e}"));
        World { sim, plugin_dir, state_dir }
    }
}

/// The plugin's name as host-sim knows it.
pub const PLUGIN: &str = "google-contacts";
