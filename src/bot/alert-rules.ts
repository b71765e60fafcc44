import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../core/config.ts';
import { Target } from '../core/target.ts';
import { messageTexts, unescapeSlack } from './alert-text.ts';

/** The shipped rules, used when HEAL_ALERT_RULES_FILE is not set. */
export const DEFAULT_RULES_FILE = join(import.meta.dirname, '..', '..', 'config', 'alert-rules.default.yaml');

const Regex = z.string().transform((src, ctx) => {
  try {
    return new RegExp(src, 'i');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `invalid regex ${src}: ${(err as Error).message}` });
    return z.NEVER;
  }
});

const Patterns = z
  .object({
    dagId: z.array(Regex),
    runId: z.array(Regex),
    taskId: z.array(Regex),
    logicalDate: z.array(Regex),
    appId: z.array(Regex),
    cloudRunId: z.array(Regex),
  })
  .partial()
  .strict();

/** One alert rule (see config/alert-rules.default.yaml for the documented shape). */
export const AlertRule = z.object({
  name: z.string().min(1),
  platform: z.enum(['airflow', 'dbt', 'spark']),
  /** Channel ids the rule applies to; empty: every alert channel. */
  channels: z.array(z.string().min(1)).default([]),
  /** The alerting bots (`bot_id` or `username`); both empty: any sender. */
  from: z
    .object({ botIds: z.array(z.string()).default([]), usernames: z.array(z.string()).default([]) })
    .default({ botIds: [], usernames: [] }),
  patterns: Patterns,
});
export type AlertRule = z.infer<typeof AlertRule>;

export const AlertRulesFile = z.object({ rules: z.array(AlertRule).default([]) });

/** Reads and validates a rules file; a bad file is a ConfigError naming what is wrong. */
export function loadAlertRules(file: string | undefined): AlertRule[] {
  const path = file ?? DEFAULT_RULES_FILE;
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([`HEAL_ALERT_RULES_FILE: cannot read ${path}: ${(err as Error).message}`]);
  }
  const parsed = AlertRulesFile.safeParse(raw ?? {});
  if (!parsed.success)
    throw new ConfigError(
      parsed.error.issues.map((i) => `HEAL_ALERT_RULES_FILE ${path}: ${i.path.join('.')}: ${i.message}`),
    );
  return parsed.data.rules;
}

interface Sender {
  channel?: string;
  bot_id?: unknown;
  username?: unknown;
  bot_profile?: { name?: unknown };
}

/** Whether a rule applies to this message's channel and sender. */
export function ruleApplies(rule: AlertRule, ev: Sender): boolean {
  if (rule.channels.length && (!ev.channel || !rule.channels.includes(ev.channel))) return false;
  const { botIds, usernames } = rule.from;
  if (!botIds.length && !usernames.length) return true;
  const names = [ev.username, ev.bot_profile?.name].filter((n): n is string => typeof n === 'string');
  return (
    (typeof ev.bot_id === 'string' && botIds.includes(ev.bot_id)) || names.some((n) => usernames.includes(n))
  );
}

/** Links become `url label` so regexes see both; Slack escaping is undone. */
function plainText(text: string): string {
  return unescapeSlack(
    text.replace(/<([^<>|]+)(?:\|([^<>]*))?>/g, (_m, url: string, label = '') => ` ${url} ${label} `),
  );
}

function firstCapture(regexes: RegExp[] | undefined, texts: string[]): string | undefined {
  for (const re of regexes ?? [])
    for (const t of texts) {
      const v = t.match(re)?.[1]?.trim();
      if (v) return v;
    }
  return undefined;
}

/** The target one rule pulls out of the message texts, or null when its required fields are missing. */
export function applyRule(rule: AlertRule, texts: string[]): Target | null {
  const plain = texts.map(plainText);
  const f = Object.fromEntries(
    Object.entries(rule.patterns).map(([k, res]) => [k, firstCapture(res, plain)]),
  ) as Partial<Record<keyof AlertRule['patterns'], string>>;
  const candidate =
    rule.platform === 'airflow'
      ? {
          platform: 'airflow',
          dagId: f.dagId,
          ...(f.runId ? { runId: f.runId } : f.logicalDate ? { logicalDate: f.logicalDate } : {}),
          ...(f.taskId ? { taskId: f.taskId } : {}),
        }
      : rule.platform === 'dbt'
        ? { platform: 'dbt', cloudRunId: f.cloudRunId }
        : { platform: 'spark', appId: f.appId };
  if (rule.platform === 'dbt' && !f.cloudRunId) return null;
  const parsed = Target.safeParse(candidate);
  return parsed.success ? parsed.data : null;
}

/** The first target any applicable rule finds in a message event (text, attachments, blocks). */
export function targetByRules(
  rules: AlertRule[],
  event: Record<string, unknown>,
  isSupported: (p: Target['platform']) => boolean,
): { target: Target; rule: string } | null {
  const texts = messageTexts(event);
  for (const rule of rules) {
    if (!isSupported(rule.platform) || !ruleApplies(rule, event as Sender)) continue;
    const target = applyRule(rule, texts);
    if (target) return { target, rule: rule.name };
  }
  return null;
}
