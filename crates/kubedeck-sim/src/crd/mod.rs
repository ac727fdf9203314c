//! CustomResourceDefinitions: the kinds they add to the API at run time.
//!
//! The built-in registry is static and compared by pointer, so a CRD's kinds
//! are `&'static ResourceDef`s too: built from the CRD when it is stored,
//! leaked, and interned by content, so that the same CRD created again (in
//! this simulator or another one in the same process, as tests do) reuses
//! them. What leaks is bounded by the number of distinct CRD versions ever
//! stored, a few hundred bytes each. Each store has its own `Registry` of
//! the kinds its CRDs serve; objects of every version of a kind share one
//! table (see `ResourceDef::same_table`), so redefining a CRD keeps them.

mod definition;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use serde_json::Value;

use crate::resources::{self, ResourceDef};
use definition::{DefSpec, served_specs};
pub(crate) use definition::{apply_defaults, validate};

/// The kinds served for one store's CRDs, on top of the built-in ones.
#[derive(Default)]
pub(crate) struct Registry {
    custom: RwLock<Arc<Vec<&'static ResourceDef>>>,
}

impl Registry {
    /// The custom kinds, in discovery order (by CRD name, then version
    /// priority).
    pub(crate) fn custom(&self) -> Arc<Vec<&'static ResourceDef>> {
        self.custom
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Every kind served: the built-in ones, then the custom ones.
    pub(crate) fn all(&self) -> Vec<&'static ResourceDef> {
        let mut all = resources::ALL.to_vec();
        all.extend(self.custom().iter().copied());
        all
    }

    /// Finds a kind by its HTTP path parts.
    pub(crate) fn lookup(
        &self,
        group: &str,
        version: &str,
        plural: &str,
    ) -> Option<&'static ResourceDef> {
        resources::lookup(group, version, plural).or_else(|| {
            self.custom()
                .iter()
                .copied()
                .find(|r| r.group == group && r.version == version && r.plural == plural)
        })
    }

    /// Finds a kind by apiVersion and kind, as written in a manifest.
    pub(crate) fn by_kind(&self, api_version: &str, kind: &str) -> Option<&'static ResourceDef> {
        resources::by_kind(api_version, kind).or_else(|| {
            let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
            self.custom()
                .iter()
                .copied()
                .find(|r| r.group == group && r.version == version && r.kind == kind)
        })
    }

    /// The group/versions served, in discovery order.
    pub(crate) fn group_versions(&self) -> Vec<(&'static str, &'static str)> {
        resources::group_versions_of(&self.all())
    }

    /// Rebuilds the custom kinds from the stored CRDs (sorted by name).
    pub(crate) fn refresh<'a>(&self, crds: impl Iterator<Item = &'a Value>) {
        let kinds: Vec<&'static ResourceDef> = crds
            .filter(|crd| crd["metadata"]["deletionTimestamp"].is_null())
            .flat_map(served_specs)
            .map(intern)
            .collect();
        *self.custom.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(kinds);
    }
}

/// A kind of this CRD, whatever its state: the one whose objects go when
/// it is deleted.
pub(crate) fn kind_of(crd: &Value) -> Option<&'static ResourceDef> {
    served_specs(crd).into_iter().next().map(intern)
}

/// The one leaked `ResourceDef` for this content.
fn intern(spec: DefSpec) -> &'static ResourceDef {
    static INTERNED: Mutex<Option<HashMap<DefSpec, &'static ResourceDef>>> = Mutex::new(None);
    let mut guard = INTERNED.lock().unwrap_or_else(|e| e.into_inner());
    let map = guard.get_or_insert_with(HashMap::new);
    if let Some(def) = map.get(&spec) {
        return def;
    }
    let def: &'static ResourceDef = Box::leak(Box::new(spec.leak()));
    map.insert(spec, def);
    def
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn widgets(short: &[&str]) -> Value {
        let mut crd = json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": "widgets", "kind": "Widget", "shortNames": short},
                "versions": [
                    {"name": "v1beta1", "served": true, "storage": false},
                    {"name": "v1", "served": true, "storage": true,
                     "subresources": {"status": {}},
                     "additionalPrinterColumns": [
                        {"name": "Size", "type": "integer", "jsonPath": ".spec.size"}]},
                    {"name": "v0", "served": false, "storage": false},
                ],
            },
        });
        apply_defaults(&mut crd);
        crd
    }

    #[test]
    fn served_versions_become_kinds_and_the_same_crd_reuses_them() {
        let reg = Registry::default();
        reg.refresh([widgets(&["wg"])].iter());
        let v1 = reg.lookup("example.com", "v1", "widgets").unwrap();
        assert_eq!(v1.kind, "Widget");
        assert_eq!(v1.singular, "widget");
        assert_eq!(v1.short_names, ["wg"]);
        assert!(v1.custom && v1.namespaced && v1.has_subresource("status"));
        assert_eq!(v1.columns[0].json_path, ".spec.size");
        let beta = reg.by_kind("example.com/v1beta1", "Widget").unwrap();
        assert!(beta.same_table(v1) && !beta.has_subresource("status"));
        assert!(reg.lookup("example.com", "v0", "widgets").is_none());
        // v1 is preferred over v1beta1.
        assert_eq!(
            reg.group_versions().last(),
            Some(&("example.com", "v1beta1"))
        );

        let again = Registry::default();
        again.refresh([widgets(&["wg"])].iter());
        let same = again.lookup("example.com", "v1", "widgets").unwrap();
        assert!(std::ptr::eq(v1, same));
        again.refresh([widgets(&["w"])].iter());
        let renamed = again.lookup("example.com", "v1", "widgets").unwrap();
        assert_eq!(renamed.short_names, ["w"]);
        assert!(renamed.same_table(v1));
        again.refresh(std::iter::empty());
        assert!(again.lookup("example.com", "v1", "widgets").is_none());
    }
}
