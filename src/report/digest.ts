import type { Digest, DigestSignature } from '../jobs/digest.ts';
import { fitMessage } from './limits.ts';
import { context, divider, header, section, untrusted } from './mrkdwn.ts';
import type { SlackMessage } from './types.ts';

/** `3m 20s`, `1h 05m`, `850 ms`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** `3/4 (75%) succeeded`, or `none finished yet` when nothing ended. */
function rate(ok: number, of: number, verb: string): string {
  return of ? `${ok}/${of} (${Math.round((100 * ok) / of)}%) ${verb}` : 'none finished yet';
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function signatureLine(s: DigestSignature, rank: number): string {
  const where = [s.pipeline, s.culprit].filter(Boolean).map((x) => untrusted(x, 80));
  const link =
    s.lastPermalink && /^https:\/\/[^\s<>|]+$/.test(s.lastPermalink)
      ? ` · <${s.lastPermalink}|last thread>`
      : '';
  const fixed = s.lastFix ? ` · last fixed by a ${s.lastFix.kind} (<@${s.lastFix.by}>)` : ' · never fixed';
  const err = s.error ? `\n      _${untrusted(s.error, 160)}_` : '';
  return `${rank}. *${s.count}×* \`${s.category}\` ${s.platform} ${where.join(' › ')}${link}${fixed}${err}`;
}

function ttrcLine(d: Digest): string {
  const t = d.timeToRootCause;
  if (!t) return '*Time to root cause:* no diagnosed incident this week';
  return `*Time to root cause* (alert → root cause in Slack, ${t.count} diagnosed): median ${duration(t.p50Ms)} · p90 ${duration(t.p90Ms)} · slowest ${duration(t.maxMs)}`;
}

function outcomesLine(d: Digest): string {
  const { reruns: r, fixes: f, feedback: v } = d;
  const rerun = r.requested
    ? `*Reruns:* ${r.requested} asked, ${rate(r.succeeded, r.succeeded + r.failed, 'succeeded')}${r.pending ? `, ${r.pending} still running` : ''}`
    : '*Reruns:* none asked';
  const fix = f.approved
    ? `*Fixes:* ${f.approved} approved, ${rate(f.opened, f.opened + f.failed, 'opened a pull request')}${f.pending ? `, ${f.pending} in progress` : ''}`
    : '*Fixes:* none approved';
  const votes =
    v.up + v.down ? `*Diagnoses judged right:* ${rate(v.up, v.up + v.down, 'of 👍/👎 votes')}` : '';
  return [rerun, fix, votes].filter(Boolean).join('\n');
}

/** The weekly digest as a Slack message: counts, time to root cause, outcomes, top failure signatures. */
export function renderDigest(d: Digest): SlackMessage {
  const i = d.incidents;
  const title = `Heal weekly digest · ${day(d.from)} → ${day(d.to)}`;
  if (i.total === 0)
    return fitMessage({
      text: `${title}: no incidents`,
      blocks: [
        header(title, 'heal_digest_header'),
        section(':sunny: No incidents this week.', 'heal_digest_empty'),
      ],
    });
  const counts = `*${i.total} incident${i.total === 1 ? '' : 's'}:* ${i.diagnosed} diagnosed · ${i.abstained} undecided (Heal abstained) · ${i.failed} investigation${i.failed === 1 ? '' : 's'} failed${i.inProgress ? ` · ${i.inProgress} in progress` : ''}`;
  const cats = d.categories.slice(0, 8).map((c) => `\`${c.category}\` ${c.count}`);
  const blocks = [
    header(title, 'heal_digest_header'),
    section(`${counts}\n${ttrcLine(d)}`, 'heal_digest_counts'),
    section(outcomesLine(d), 'heal_digest_outcomes'),
    divider(),
    section(
      d.top.length
        ? `*Top failure signatures*\n${d.top.map((s, n) => signatureLine(s, n + 1)).join('\n')}`
        : '*Top failure signatures:* none (every incident this week was undecided or failed)',
      'heal_digest_top',
    ),
    ...(cats.length ? [context([`By category: ${cats.join(' · ')}`], 'heal_digest_categories')] : []),
    ...(d.truncated
      ? [context(['Only the newest 5,000 incidents of the week were counted.'], 'heal_digest_cut')]
      : []),
  ];
  return fitMessage({
    text: `${title}: ${i.total} incident${i.total === 1 ? '' : 's'}, ${i.diagnosed} diagnosed`,
    blocks,
  });
}
