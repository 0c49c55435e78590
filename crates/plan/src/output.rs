//! Printing a plan: a terraform-like text listing by wave, Graphviz, Mermaid.
//!
//! Every function returns a `String` and is deterministic: the same plan gives the same bytes.

use std::fmt::Write as _;

use gitops_core::Action;

use crate::model::{Dependency, Phase, Plan, Reason, Step};

/// Options for [`text`].
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct TextOptions {
    /// Also list unchanged steps (`= unchanged`).
    pub verbose: bool,
}

impl TextOptions {
    /// Sets whether unchanged steps are listed.
    #[must_use]
    pub fn verbose(mut self, verbose: bool) -> Self {
        self.verbose = verbose;
        self
    }
}

/// The heading of the wave `step` is in: `wave 2: Sync, sync-wave 1, resources`.
fn wave_title(step: &Step) -> String {
    let mut title = format!("wave {}: {}", step.wave, step.phase);
    if step.sync_wave != 0 {
        let _ = write!(title, ", sync-wave {}", step.sync_wave);
    }
    let _ = write!(title, ", {}", step.stage);
    title
}

fn shown(step: &Step, options: &TextOptions) -> bool {
    options.verbose || step.action != Action::Unchanged || step.hook.is_some()
}

/// The plan as text, grouped by wave, ending with the counts.
///
/// ```text
/// wave 0: Sync, definitions
///   + create Namespace/shop
/// wave 1: Sync, resources
///   + create ConfigMap/shop/cfg
///       after Namespace/shop (lives in it)
///   ~ update Deployment/shop/web (spec.replicas)
///       after ConfigMap/shop/cfg (mounts it)
/// 2 to create, 1 to update, 0 to delete, 0 unchanged.
/// ```
pub fn text(plan: &Plan, options: &TextOptions) -> String {
    let mut out = String::new();
    for wave in plan.waves() {
        let steps: Vec<&Step> = wave.iter().filter(|s| shown(s, options)).collect();
        let Some(first) = steps.first() else { continue };
        let _ = writeln!(out, "{}", wave_title(first));
        for step in steps {
            let fields = if step.fields.is_empty() { String::new() } else { format!(" ({})", step.fields.join(", ")) };
            let _ = writeln!(out, "  {} {} {}{fields}", step.action.symbol(), step.action, step.object);
            if let Some(hook) = &step.hook {
                let events: Vec<&str> = hook.events.iter().map(|e| e.as_str()).collect();
                let policies: Vec<String> = hook.delete_policies.iter().map(ToString::to_string).collect();
                let origin = match hook.origin {
                    crate::model::HookOrigin::Argo => "argocd.argoproj.io/hook",
                    _ => "helm.sh/hook",
                };
                let _ = writeln!(out, "      hook {origin}: {}; deleted {}", events.join(","), policies.join(","));
            }
            for dependency in &step.depends_on {
                let _ = writeln!(out, "      {}", explain(step, dependency));
            }
        }
    }
    for orphan in &plan.orphans {
        let _ = writeln!(out, "! keep {orphan} (no longer desired; use --prune to delete)");
    }
    for skipped in &plan.skipped {
        let _ = writeln!(out, "! skip {} ({})", skipped.object, skipped.reason);
    }
    for warning in &plan.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    let hooks = plan.steps.iter().filter(|s| s.hook.is_some()).count();
    let _ = writeln!(
        out,
        "{} to create, {} to update, {} to delete, {} unchanged{}.",
        plan.count(Action::Create),
        plan.count(Action::Update),
        plan.count(Action::Delete),
        plan.count(Action::Unchanged),
        match hooks {
            0 => String::new(),
            1 => ", 1 hook".to_owned(),
            n => format!(", {n} hooks"),
        }
    );
    out
}

/// Why a step waits: `after ConfigMap/app/cfg (mounts it)`, `after deleting Deployment/app/web
/// (which mounts this)`.
fn explain(step: &Step, dependency: &Dependency) -> String {
    let reason = match &dependency.reason {
        Reason::DependsOn => "depends on it, by gitops.dev/depends-on".to_owned(),
        Reason::ChangeRule(rule) => format!("kapp.k14s.io/change-rule \"{rule}\""),
        other if step.phase == Phase::Prune => format!("which {other} this"),
        other => format!("{other} it"),
    };
    let verb = if step.phase == Phase::Prune { "after deleting" } else { "after" };
    format!("{verb} {} ({reason})", dependency.object)
}

fn quote(text: &str) -> String {
    text.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The plan as a Graphviz digraph: one cluster per wave, an arrow from each step to what it
/// waits for, labelled with the reason (`Deployment/app -> ConfigMap/cfg [label="mounts"]`).
pub fn dot(plan: &Plan) -> String {
    let mut out = String::from("digraph plan {\n  rankdir=RL;\n  node [shape=box, fontname=monospace];\n");
    for wave in plan.waves() {
        let Some(first) = wave.first() else { continue };
        let _ = writeln!(out, "  subgraph cluster_{} {{\n    label=\"{}\";", first.wave, quote(&wave_title(first)));
        for step in wave {
            let _ = writeln!(
                out,
                "    \"{}\" [label=\"{} {}\"];",
                quote(&step.object.to_string()),
                step.action.symbol(),
                quote(&step.object.to_string())
            );
        }
        out.push_str("  }\n");
    }
    for step in &plan.steps {
        for dependency in &step.depends_on {
            let _ = writeln!(
                out,
                "  \"{}\" -> \"{}\" [label=\"{}\"];",
                quote(&step.object.to_string()),
                quote(&dependency.object.to_string()),
                quote(&dependency.reason.to_string())
            );
        }
    }
    out.push_str("}\n");
    out
}

/// The plan as a Mermaid flowchart: one subgraph per wave, an arrow from each step to what it
/// waits for, labelled with the reason.
pub fn mermaid(plan: &Plan) -> String {
    let ids: std::collections::HashMap<&gitops_core::ObjectRef, usize> =
        plan.steps.iter().enumerate().map(|(i, s)| (&s.object, i)).collect();
    let label = |text: &str| text.replace('"', "#quot;");
    let mut out = String::from("flowchart RL\n");
    for wave in plan.waves() {
        let Some(first) = wave.first() else { continue };
        let _ = writeln!(out, "  subgraph w{}[\"{}\"]", first.wave, label(&wave_title(first)));
        for step in wave {
            let id = ids.get(&step.object).copied().unwrap_or_default();
            let _ = writeln!(out, "    s{id}[\"{} {}\"]", step.action.symbol(), label(&step.object.to_string()));
        }
        out.push_str("  end\n");
    }
    for (i, step) in plan.steps.iter().enumerate() {
        for dependency in &step.depends_on {
            if let Some(j) = ids.get(&dependency.object) {
                let _ = writeln!(out, "  s{i} -->|\"{}\"| s{j}", label(&dependency.reason.to_string()));
            }
        }
    }
    out
}
