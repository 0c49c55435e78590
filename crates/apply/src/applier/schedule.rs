//! The plan as the applier runs it: waves of steps, and what a hook step asks for.
//!
//! This is the only place that reads the plan's ordering model.

use gitops_plan::{DeletePolicy, Phase, Plan, Step};

/// One wave: steps that may run concurrently.
#[derive(Debug)]
pub(super) struct Wave<'p> {
    /// The steps, in plan order.
    pub(super) steps: &'p [Step],
    /// Whether the wave runs only when the sync failed (`SyncFail` hooks).
    pub(super) on_failure: bool,
}

/// What a hook step asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct HookPolicy {
    /// Delete the previous copy before creating the hook.
    pub(super) before_creation: bool,
    /// Delete the hook once it succeeded.
    pub(super) on_success: bool,
    /// Delete the hook once it failed.
    pub(super) on_failure: bool,
}

/// The plan's waves in order. A wave never mixes phases, so a `SyncFail` wave is all
/// `SyncFail` steps.
pub(super) fn waves(plan: &Plan) -> Vec<Wave<'_>> {
    plan.waves().map(|steps| Wave { steps, on_failure: steps.iter().all(|s| s.phase == Phase::SyncFail) }).collect()
}

/// The step's hook policy, when the step is a hook.
pub(super) fn hook(step: &Step) -> Option<HookPolicy> {
    let hook = step.hook.as_ref()?;
    let has = |policy| hook.delete_policies.contains(&policy);
    Some(HookPolicy {
        before_creation: has(DeletePolicy::BeforeHookCreation),
        on_success: has(DeletePolicy::HookSucceeded),
        on_failure: has(DeletePolicy::HookFailed),
    })
}
