//! The real tier: kubedeck against a real Kubernetes control plane
//! (kube-apiserver, etcd, controller-manager, scheduler, metrics-server, and
//! kwok as the kubelets), built from Go modules by `testbed/real-cluster`.
//! One cluster serves the whole run; each test works in its own namespace,
//! with the testbed's kubectl (of the server's version) as the witness.
//!
//! A harness of its own (libtest-mimic) so the cluster is started once
//! before the tests and stopped after them, whatever they do.

// A failed step in a test is the test's failure: unwrap, expect and panic say why.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod actions;
mod browse;
mod cluster;
mod console;
mod delete;
mod drain;
mod edit;
mod exec;
mod faults;
mod headless;
mod logs;
mod port_forward;
mod rbac;
mod seed;
mod sim_vs_real;
mod sim_vs_real_crds;
mod watch;

use std::future::Future;
use std::sync::{OnceLock, RwLock};

use libtest_mimic::{Arguments, Failed, Trial};

use cluster::Cluster;

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// A test body: an async function of the shared cluster.
type Body = fn(&'static Cluster) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>;

/// Held shared by every test, and alone by a test that restarts the
/// control plane, so that no other test sees the server go away.
static CONTROL_PLANE: RwLock<()> = RwLock::new(());

/// Whether a test may run beside others or takes the cluster alone.
#[derive(Clone, Copy)]
enum Share {
    Shared,
    Alone,
}

macro_rules! trial {
    ($module:ident :: $name:ident) => {
        trial!($module::$name, Share::Shared)
    };
    ($module:ident :: $name:ident, $share:expr) => {
        (
            concat!(stringify!($module), "::", stringify!($name)),
            (|c| Box::pin($module::$name(c))) as Body,
            $share,
        )
    };
}

fn trials() -> Vec<(&'static str, Body, Share)> {
    vec![
        trial!(actions::scale_restart_set_image_and_rollback_reach_the_real_deployment),
        trial!(actions::a_pod_disruption_budget_refuses_an_eviction_and_the_refusal_is_audited),
        trial!(actions::delete_pod_cordon_and_cronjob_trigger_and_suspend),
        trial!(delete::a_deployment_deleted_with_each_propagation_policy_does_what_kubectls_would),
        trial!(faults::a_hung_api_server_brings_the_banner_and_the_console_converges_after),
        trial!(faults::answers_of_500_bring_the_banner_and_the_console_converges_after),
        trial!(faults::cut_answers_bring_the_banner_and_the_console_converges_after),
        trial!(faults::a_410_on_a_resumed_watch_makes_the_console_relist),
        trial!(exec::a_command_runs_through_the_real_exec_subresource),
        trial!(
            edit::a_configmap_replace_dry_run_and_stale_version_answer_alike_on_the_simulator_and_the_real_one
        ),
        trial!(headless::chaos_pod_kill_passes_with_the_whole_timeline_in_causal_order),
        trial!(drain::a_kwok_node_drains_behind_a_real_budget_and_a_stuck_one_times_out_honestly),
        trial!(headless::a_backup_job_completes_and_freshness_comes_from_last_successful_time),
        trial!(console::views_follow_the_real_controllers_with_no_key_pressed),
        trial!(console::the_real_hpa_scales_on_emulated_cpu_and_the_console_says_why),
        trial!(browse::the_generic_view_lists_real_objects_with_server_columns_and_follows_kubectl),
        trial!(logs::a_pods_log_streams_through_the_real_api_server),
        trial!(port_forward::a_service_forward_reaches_the_pod_through_the_real_api_server),
        trial!(rbac::a_restricted_user_sees_its_namespace_and_the_executor_agrees_with_the_server),
        trial!(seed::the_seed_applies_and_the_console_shows_its_platforms),
        trial!(sim_vs_real::kubectl_sees_the_same_cluster_on_the_simulator_and_the_real_one),
        trial!(sim_vs_real_crds::custom_resources_print_the_same_on_the_simulator_and_the_real_one),
        trial!(
            watch::the_console_converges_after_an_apiserver_restart_and_a_compaction,
            Share::Alone
        ),
    ]
}

fn main() {
    let args = Arguments::from_args();
    let selected: Vec<_> = trials()
        .into_iter()
        .filter(|(name, _, _)| is_selected(&args, name))
        .collect();
    // A filter that selects none of these tests (another crate's test name)
    // must not pay for a cluster.
    let needs_cluster = !args.list && !selected.is_empty();
    if needs_cluster {
        CLUSTER
            .set(Cluster::up())
            .unwrap_or_else(|_| panic!("the cluster is started once"));
    }
    let trials = trials()
        .into_iter()
        .map(|(name, body, share)| {
            Trial::test(name, move || {
                let cluster = CLUSTER.get().ok_or_else(|| Failed::from("no cluster"))?;
                // A poisoned lock only means another test failed.
                let (_shared, _alone) = match share {
                    Share::Shared => (
                        Some(CONTROL_PLANE.read().unwrap_or_else(|e| e.into_inner())),
                        None,
                    ),
                    Share::Alone => (
                        None,
                        Some(CONTROL_PLANE.write().unwrap_or_else(|e| e.into_inner())),
                    ),
                };
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .map_err(|e| Failed::from(e.to_string()))?;
                runtime.block_on(body(cluster));
                Ok(())
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(cluster) = CLUSTER.get() {
        cluster.down();
    }
    conclusion.exit();
}

/// libtest's selection: a substring filter (or an exact one), minus skips.
fn is_selected(args: &Arguments, name: &str) -> bool {
    let filtered = match &args.filter {
        None => true,
        Some(f) if args.exact => name == f,
        Some(f) => name.contains(f.as_str()),
    };
    filtered && !args.skip.iter().any(|s| name.contains(s.as_str()))
}
