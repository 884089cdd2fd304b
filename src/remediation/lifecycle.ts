/**
 * The lifecycle of a remediation as one table: state × event → next state and
 * the effects that go with it. Pure data; the Redis store applies a row as a
 * compare-and-set on the current state (a row whose `from` does not hold the
 * record's state is refused), and the processor, the webhook and the API only
 * raise events. Adding a state or an event is adding rows.
 *
 * Facts that are not states (resolved, recovered, not healed, seen again) are
 * fields on the record; the table says what each event does with them.
 */

/** Every state, in lifecycle order; the API's `state` filter and the type both come from this list. */
export const STATES = [
  'queued', // admitted, a job is waiting
  'deciding', // a worker holds it: read Git, ask the policy, write the rollback
  'noop', // nothing to do (no candidate, or every alert resolved before the start)
  'denied', // the policy said no
  'planned', // dry run: decided, nothing written
  'pr_opened', // PR open for review (or merge refused and auto-merge unavailable)
  'auto_merge', // GitHub merges once required checks/reviews pass
  'merged', // the rollback is on the base branch
  'closed', // the PR was closed (alert resolved, or closed on GitHub)
  'failed', // gave up after every attempt: the dead letter
  'verified', // after merged: the GitOps engine runs the merge commit and reports it healthy
  'unverified', // after merged: degraded, failed sync, or no verdict before verify.timeout
] as const;

export type RemediationState = (typeof STATES)[number];

export type RemediationEvent =
  | 'start' // a worker picks the job up
  | 'resume' // a worker picks up a job another worker held (crash, stall, retry)
  | 'resolved_before_start' // every alert resolved before anything was written
  | 'no_candidate'
  | 'denied'
  | 'dry_run'
  | 'pr_opened' // PR checkpointed, mode pull_request (or merge refused for good)
  | 'merge_pending' // merge refused for pending checks/reviews, auto-merge enabled
  | 'merged' // GitHub says the PR is merged (our merge, a lost response, auto-merge, a human)
  | 'pr_closed' // closed on GitHub without merge, or closed by us on resolution
  | 'gave_up' // the last attempt failed
  | 'retry' // operator: POST /v1/remediations/:id/retry, `rewind retry <id>`
  | 'verified' // Argo CD / Flux: the merge commit is live and healthy
  | 'unverified'; // Argo CD / Flux: degraded, failed, or no verdict before verify.timeout

/**
 * What goes with a transition. The store writes them to the record's outbox with the state (one
 * compare-and-set); they run after it and are marked done, so a crash in between leaves them pending
 * for the next job or the worker-start sweep (src/queue/effects.ts), never lost.
 */
export type Effect =
  | 'notify' // one Slack message for the new state (claimed once per kind)
  | 'count' // rewind_remediations_total{outcome=<state>}
  | 'release_target' // the target takes new remediations again
  | 'enqueue' // (re)queue the remediate job
  | 'watch' // poll the PR until GitHub merges or closes it
  | 'verify_later' // after verifyAfter, escalate once if the alert still fires
  | 'reconcile' // ask Argo CD / Flux to reconcile now, then verify (src/remediation/verify.ts)
  | 'hand_over_resolution'; // a resolution seen meanwhile is acted on now

export interface Transition {
  from: readonly RemediationState[];
  event: RemediationEvent;
  to: RemediationState;
  effects: readonly Effect[];
}

const WORKING: readonly RemediationState[] = ['queued', 'deciding'];
const DONE = ['count', 'release_target'] as const;

/** Read top to bottom: the whole machine. */
export const TRANSITIONS: readonly Transition[] = [
  { from: ['queued'], event: 'start', to: 'deciding', effects: [] },
  { from: ['deciding'], event: 'resume', to: 'deciding', effects: [] },
  { from: WORKING, event: 'resolved_before_start', to: 'noop', effects: [...DONE] },
  { from: ['deciding'], event: 'no_candidate', to: 'noop', effects: [...DONE] },
  { from: ['deciding'], event: 'denied', to: 'denied', effects: ['notify', ...DONE] },
  { from: ['deciding'], event: 'dry_run', to: 'planned', effects: [...DONE] },
  {
    from: ['deciding'],
    event: 'pr_opened',
    to: 'pr_opened',
    effects: ['notify', ...DONE, 'hand_over_resolution'],
  },
  {
    from: ['deciding'],
    event: 'merge_pending',
    to: 'auto_merge',
    effects: ['notify', ...DONE, 'watch', 'hand_over_resolution'],
  },
  {
    from: ['deciding', 'auto_merge', 'pr_opened'],
    event: 'merged',
    to: 'merged',
    effects: ['notify', ...DONE, 'reconcile', 'verify_later', 'hand_over_resolution'],
  },
  {
    from: ['deciding', 'auto_merge', 'pr_opened'],
    event: 'pr_closed',
    to: 'closed',
    effects: ['notify', ...DONE],
  },
  { from: WORKING, event: 'gave_up', to: 'failed', effects: ['notify', ...DONE] },
  { from: ['failed'], event: 'retry', to: 'queued', effects: ['enqueue'] },
  // The verifier claims the verdict once and says it in Slack and metrics itself (with the engine's reason).
  { from: ['merged'], event: 'verified', to: 'verified', effects: [] },
  { from: ['merged'], event: 'unverified', to: 'unverified', effects: [] },
];

/** A rollback that reached the base branch, whatever verification said since. */
export const MERGED_STATES: ReadonlySet<RemediationState> = new Set(['merged', 'verified', 'unverified']);

/**
 * Alertmanager's deliveries are events too, in whatever state they arrive.
 * They are applied inside the admission script (atomically with the lookup),
 * so this table documents them and the admission tests hold the script to it.
 */
export const ALERT_EVENTS = [
  {
    event: 'repeat',
    when: 'a firing incident already known (any state)',
    action: 'seenAgain + 1 on its remediation; nothing else',
  },
  {
    event: 'new incident',
    when: 'the target has a remediation queued or deciding',
    action: 'attached to it (and a resolution recorded earlier is cleared: it is firing again)',
  },
  {
    event: 'new incident',
    when: 'no remediation of the target is queued or deciding',
    action: 'a new remediation (queued); the policy sees the earlier ones in history',
  },
  {
    event: 'resolved',
    when: 'queued or deciding, nothing written yet',
    action: 'recorded; the worker ends it as noop (resolved_before_start)',
  },
  {
    event: 'resolved',
    when: 'deciding with a PR written',
    action: 'recorded; handed over when the worker reaches pr_opened/auto_merge/merged',
  },
  {
    event: 'resolved',
    when: 'pr_opened or auto_merge',
    action: 'the PR is closed with a comment (closeOnResolve) → closed',
  },
  {
    event: 'resolved',
    when: 'merged',
    action: 'time to recovery recorded (recovered)',
  },
  {
    event: 'resolved',
    when: 'noop, denied, planned, closed, failed',
    action: 'recorded only',
  },
  {
    event: 'verify due',
    when: 'merged, still firing verifyAfter later',
    action: 'notHealed recorded, one Slack escalation, counted in history; never a second rollback',
  },
] as const;

export const TERMINAL_STATES: ReadonlySet<RemediationState> = new Set([
  'noop',
  'denied',
  'planned',
  'pr_opened',
  'auto_merge',
  'merged',
  'failed',
  'closed',
  'verified',
  'unverified',
]);

/** States in which a remediation still takes new incidents (the target's in-flight one). */
export const ACCEPTS_INCIDENTS: readonly RemediationState[] = WORKING;

export function transitionFor(event: RemediationEvent): Transition {
  const t = TRANSITIONS.find((r) => r.event === event);
  if (t === undefined) throw new Error(`lifecycle: no transition for ${event}`);
  return t;
}

/** The next state, or null when the event is not allowed in `state`. */
export function next(state: RemediationState, event: RemediationEvent): Transition | null {
  const t = TRANSITIONS.find((r) => r.event === event && r.from.includes(state));
  return t ?? null;
}
