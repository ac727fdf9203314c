//! The seed's kinds without a console view of their own yet (issue #15), as
//! the real kubectl prints them from the simulator's Tables: the headers are
//! kubectl's against kube-apiserver 1.31, and a seed object's row is there.

use std::collections::BTreeMap;

use kubedeck_sim::config::SimConfig;

use crate::common::{TestSim, columns};

fn header(text: &str) -> Vec<String> {
    text.lines()
        .next()
        .unwrap_or_default()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// The row whose NAME is `name`.
#[track_caller]
fn named(text: &str, name: &str) -> BTreeMap<String, String> {
    columns(text)
        .into_iter()
        .find(|r| r.get("NAME").map(String::as_str) == Some(name))
        .unwrap_or_else(|| panic!("no row {name} in\n{text}"))
}

async fn get(ts: &TestSim, args: &[&str]) -> String {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    ts.kubectl(&all).await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_kinds_print_kubectls_columns() {
    crate::common::require_kubectl();
    let ts = crate::common::start_with("seed", SimConfig::default()).await;

    let ing = get(&ts, &["ing", "-n", "myfin"]).await;
    assert_eq!(
        header(&ing),
        ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"]
    );
    let r = named(&ing, "myfin-ingress");
    assert_eq!(
        (r["HOSTS"].as_str(), r["PORTS"].as_str()),
        ("myfin.local", "80")
    );

    let pdb = get(&ts, &["pdb", "-n", "myfin"]).await;
    assert_eq!(
        header(&pdb),
        [
            "NAME",
            "MIN AVAILABLE",
            "MAX UNAVAILABLE",
            "ALLOWED DISRUPTIONS",
            "AGE"
        ]
    );
    let r = named(&pdb, "myfin-api-pdb");
    assert_eq!(
        (r["MIN AVAILABLE"].as_str(), r["MAX UNAVAILABLE"].as_str()),
        ("1", "N/A")
    );

    let pvc = get(&ts, &["pvc", "-A"]).await;
    assert_eq!(
        header(&pvc),
        [
            "NAMESPACE",
            "NAME",
            "STATUS",
            "VOLUME",
            "CAPACITY",
            "ACCESS MODES",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "AGE"
        ],
        "{pvc}"
    );

    let rs = get(&ts, &["rs", "-n", "myfin"]).await;
    assert_eq!(header(&rs), ["NAME", "DESIRED", "CURRENT", "READY", "AGE"]);
    assert!(rs.lines().any(|l| l.starts_with("myfin-api-")), "{rs}");

    let cm = get(&ts, &["cm", "-n", "monitoring"]).await;
    assert_eq!(header(&cm), ["NAME", "DATA", "AGE"]);
    named(&cm, "prometheus-config");

    let secret = get(&ts, &["secret", "-n", "myfin"]).await;
    assert_eq!(header(&secret), ["NAME", "TYPE", "DATA", "AGE"]);
    assert_eq!(named(&secret, "mysql-secrets")["TYPE"], "Opaque");

    let sa = get(&ts, &["sa", "-n", "myfin"]).await;
    // Without SECRETS since token Secrets stopped being made (checked
    // against kube-apiserver by sim_vs_real).
    assert_eq!(header(&sa), ["NAME", "AGE"], "{sa}");
    named(&sa, "default");

    let crd = get(&ts, &["crd"]).await;
    assert_eq!(header(&crd), ["NAME", "SCOPE", "VERSIONS", "CREATED AT"]);
    assert_eq!(
        named(&crd, "certificates.cert-manager.io")["VERSIONS"],
        "v1(storage)"
    );
    let wide = get(&ts, &["crd", "-o", "wide"]).await;
    let cert = named(&wide, "certificates.cert-manager.io");
    assert_eq!(cert["SHORTNAMES"], "cert,certs");
    assert_eq!(cert["ESTABLISHED"], "true");

    // The seed's custom resources, with cert-manager's printer columns.
    let certs = get(&ts, &["certs", "-n", "myfin", "-o", "wide"]).await;
    assert_eq!(
        header(&certs),
        ["NAME", "READY", "SECRET", "ISSUER", "STATUS", "AGE"]
    );
    let ok = named(&certs, "myfin-tls");
    assert_eq!(
        (ok["READY"].as_str(), ok["ISSUER"].as_str()),
        ("True", "letsencrypt-prod")
    );
    let issuing = named(&certs, "myfin-api-internal-tls");
    assert_eq!(issuing["READY"], "False");
    assert_eq!(
        issuing["STATUS"],
        "Issuing certificate as Secret does not exist"
    );
}
