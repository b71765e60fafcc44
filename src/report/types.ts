import type { Report } from '../core/report.ts';
import type { Target } from '../core/target.ts';

/** A Slack message as renderers produce it: fallback text plus Block Kit blocks. */
export interface SlackMessage {
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: Block Kit blocks are validated by limits.ts, not typed here
  blocks: any[];
}

/** Where an investigation stands; the thread parent is rendered from this and updated in place. */
export type Phase = 'queued' | 'pinned' | 'collected' | 'diagnosed' | 'failed';

export interface ThreadState {
  incidentId: string;
  target: Target;
  phase: Phase;
  /** Slack user id of whoever asked (`/heal`), if any. */
  requestedBy?: string;
  /** Set once diagnosed. */
  report?: Report;
  /** Set when the investigation could not complete (plain words, no stack). */
  error?: string;
  /** Progress lines shown while investigating, e.g. "Pinned attempt 1". */
  progress?: string[];
  /** Actions taken once diagnosed; after one, the buttons give way to who did what and when. */
  actions?: ActionsState;
  /** Set by whoever knows the adapter; without it the renderer decides from the target alone. */
  rerunPath?: RerunAvailability;
  /** How often this failure signature was seen before (src/jobs/recurrence.ts); badge when seen > 1. */
  recurrence?: RecurrenceView;
}

/** A failure signature's recent history, as the thread's recurrence badge shows it. */
export interface RecurrenceView {
  signature: string;
  /** Incidents with this signature in the last `windowDays`, this one included. */
  seen: number;
  windowDays: number;
  /** Seen at least HEAL_RECUR_ESCALATE times: a rerun will not make it go away. */
  escalate: boolean;
  /** The last outcome that fixed it (a rerun that succeeded, a merged fix). */
  lastFix?: { kind: 'rerun' | 'feedback' | 'fix'; result: string; by: string; at: number };
  feedback?: { up: number; down: number };
}

/** Who did something to an incident and when (epoch ms); rendered in place of the buttons. */
export interface ActionStamp {
  by: string;
  at: number;
}

/** Where a rerun stands, as the thread shows it. */
export type RerunStatus = 'requested' | 'previewed' | 'running' | 'succeeded' | 'failed' | 'error';

export interface RerunView extends ActionStamp {
  status: RerunStatus;
  /** One line: what was cleared / rerun, or why it did not happen (untrusted, rendered escaped). */
  summary?: string;
}

/** An approved fix as the thread shows it. */
export interface FixView extends ActionStamp {
  status: 'requested' | 'opened' | 'error';
  /** The pull request, once opened. */
  url?: string;
  branch?: string;
  /** Why it did not happen (untrusted, rendered escaped). */
  summary?: string;
}

/** Whether the platform offers a rerun for this target, and what it would do or why not. */
export type RerunAvailability = { available: true; what: string } | { available: false; why: string };

/** Actions taken on a diagnosed incident (DESIGN.md §5 buttons). */
export interface ActionsState {
  rerun?: RerunView;
  /** The approved fix (issue 7): queued, pull request opened, or it did not happen. */
  fix?: FixView;
  dismissed?: ActionStamp;
  feedback?: { up: number; down: number };
}

/** One incident as listed by `/heal status`, `/heal history` and the App Home tab. */
export interface IncidentSummary {
  incidentId: string;
  target: Target;
  createdAt: number;
  /** Investigation checkpoint (`claimed` … `published`, `failed`). */
  checkpoint: string;
  rootCause?: { category: string; confidence: number; culprit: string };
  /** True when Heal abstained (diagnosed without a root cause). */
  abstained?: boolean;
  permalink?: string;
  actions?: ActionsState;
  /** Diagnosed, but Slack keeps failing the thread's publish (src/jobs/publish.ts): since when, how often. */
  waitingForSlack?: { since: number; attempts: number; nextAt: number };
}
