//! Google Contacts sync for CRMs: the plugin library.
//!
//! The host loads this library and calls the root module exported by [`ffi`], which hands each
//! hook to the [`integration::Integration`]. Everything else is organised by concern:
//! [`domain`] holds the types every concern shares (bindings, links, counts), [`google`]
//! talks to Google, [`mapping`] translates contacts, [`store`] keeps the mapping
//! file, [`sync`] decides and applies changes, [`settings`] is what users see, in their
//! language and time ([`locale`]).

mod allocator;
pub mod domain;
pub mod ffi;
#[cfg(any(test, feature = "test-hooks"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod google;
pub mod integration;
pub mod locale;
pub(crate) mod logging;
pub mod mapping;
pub mod settings;
pub mod store;
pub mod sync;

#[cfg(test)]
mod layers {
    //! The concerns form layers: no module reaches, through `crate::` paths, a module that
    //! reaches back to it. A cycle means a type sits in the wrong place (shared types belong
    //! in `domain`).

    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// The top-level modules each top-level module names (`fuzzing`, a test harness, excepted).
    fn uses() -> BTreeMap<String, BTreeSet<String>> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for file in files(&src) {
            let relative = file.strip_prefix(&src).expect("under src");
            let module = relative.iter().next().expect("a path").to_string_lossy();
            let module = module.trim_end_matches(".rs").to_string();
            if module == "fuzzing" || module == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&file).expect("readable source");
            let named: Vec<String> = text
                .split("crate::")
                .skip(1)
                .map(|rest| {
                    rest.chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect()
                })
                .filter(|name: &String| !name.is_empty() && *name != module)
                .collect();
            graph.entry(module).or_default().extend(named);
        }
        graph
    }

    fn files(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).expect("readable dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                found.extend(files(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
        found
    }

    fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(m) = todo.pop() {
            if m == to {
                return true;
            }
            if seen.insert(m.clone()) {
                todo.extend(graph.get(&m).into_iter().flatten().cloned());
            }
        }
        false
    }

    #[test]
    fn no_module_reaches_back_to_a_module_that_uses_it() {
        let graph = uses();
        assert!(
            graph.contains_key("sync") && graph.contains_key("store"),
            "{graph:?}"
        );
        let cycles: Vec<String> = graph
            .iter()
            .flat_map(|(m, named)| named.iter().map(move |n| (m, n)))
            .filter(|(m, n)| reaches(&graph, n, m))
            .map(|(m, n)| format!("{m} -> {n} -> … -> {m}"))
            .collect();
        assert!(cycles.is_empty(), "module cycles: {cycles:#?}");
    }

    /// The sync speaks of remote contacts through `sync::remote`; the People API (`google`) is
    /// one provider, adapted in `integration`.
    #[test]
    fn the_sync_names_no_provider_module() {
        let graph = uses();
        let named = graph.get("sync").expect("the sync module");
        for provider in ["google", "integration"] {
            assert!(!named.contains(provider), "sync names {provider}: {named:?}");
        }
    }
}
