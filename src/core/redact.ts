/**
 * Secret redaction for untrusted text (logs, alerts, API payloads) before it reaches Slack, the LLM
 * or a report. Patterns are deliberately broad: a false positive costs a few characters, a miss leaks.
 *
 * Token shapes follow the providers' documented formats as collected by gitleaks' default rules
 * (github.com/gitleaks/gitleaks, config/gitleaks.toml: aws-access-token, github-*, gitlab-*, slack-*,
 * stripe-access-token, gcp-api-key, azure-ad-client-secret, sendgrid-api-token, twilio-api-key,
 * databricks-api-token, openai-api-key, anthropic-api-key, private-key, curl-auth-header, …) and
 * secretlint's rules (github.com/secretlint/secretlint, @secretlint/secretlint-rule-aws: AWS secret access
 * key after `aws_secret_access_key`; -privatekey, -basicauth, -database-connection-string, -gcp). Ordinary
 * ids (Spark application/stage ids, Airflow run ids, git SHAs, UUIDs) are left alone on purpose.
 */
type Replacer = string | ((match: string, ...groups: string[]) => string);

const R = '[REDACTED]';

/** Shannon entropy in bits per character. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) h -= (n / s.length) * Math.log2(n / s.length);
  return h;
}

/** Share of `s` made of word-like runs (`Orders`, `batch`): high for identifiers, low for key material. */
function wordiness(s: string): number {
  return (s.match(/[A-Z][a-z]{2,}|[a-z]{4,}/g) ?? []).join('').length / s.length;
}

/** A bare 40-character AWS secret access key rather than a SHA, a path or a CamelCase identifier. */
function looksLikeAwsSecret(s: string): boolean {
  if (!/[A-Z]/.test(s) || !/[a-z]/.test(s) || !/[0-9/+]/.test(s)) return false;
  if (s.split('/').filter((p) => /^[a-z0-9._-]+$/.test(p)).length >= 2) return false;
  return wordiness(s) < 0.6 && entropy(s) >= 3.8;
}

/** A value after a space (not `=`/`:`) that is a credential, not an English word or a short token. */
function looksLikeCredential(v: string): boolean {
  if (v.length < 8 || /^[a-z]+[.,:;!?]?$/i.test(v)) return false;
  return /\d/.test(v) || /[A-Z]/.test(v.slice(1)) || /[+/=_~.-]/.test(v) || v.length >= 20;
}

/** Key names that contain a secret word but hold no secret (`credentials.provider`, `max_tokens`). */
const HARMLESS_NAME =
  /(?:provider|file|path|dir|location|type|class|name|enabled|timeout|ttl|expiry|expires(?:_at|_in)?|length|count|size|limit|url|uri|endpoint|used|(?:max|min|num|total|input|output|prompt|completion)[_.-]?tokens?|^(?:old)?pwd)["'\\]?$/i;

/** Words that make a key name a secret's name (`PGPASSWORD`, `fs.s3a.secret.key`, `X-Api-Key`, …). */
const KW =
  /password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|account[_-]?key|credentials?|auth[_-]?key|app[_-]?key|license[_-]?key|subscription[_-]?key|master[_-]?key|signing[_-]?key|encryption[_-]?key|session[_-]?key/
    .source;
/**
 * A whole `[\w.-]` run holding a secret word, matched from the run's start only: a long run costs linear
 * time, not quadratic (untrusted logs must not be able to stall redaction).
 */
const NAME = String.raw`(?<![\w.-])(?=[\w.-]*?(?:${KW}))[\w.-]+`;
const SEP = String.raw`(?:\\?["'])?\s*[:=]\s*`;
const BARE = String.raw`[^\s"',;&}\\]`;

/** `name = value` (quoted value first, then bare), unless the name is a harmless one. */
function keyValue(name: string, sep: string, value: string): string {
  if (value.startsWith('[REDACTED') || HARMLESS_NAME.test(name)) return `${name}${sep}${value}`;
  return `${name}${sep}${R}`;
}

/** `Authorization: <scheme> <credentials>`: the scheme stays readable, the credentials go. */
function authHeader(_m: string, head: string, scheme: string | undefined, value: string): string {
  if (/^\[REDACTED[^\]]*\]$/.test(value.trim())) return `${head}${scheme ? `${scheme} ` : ''}${value}`;
  return `${head}${scheme ? `${scheme} ` : ''}${R}`;
}

/** Further prefixed tokens (gitleaks rule ids: npm, pypi, vault, docker, heroku, digitalocean, shopify, …). */
const TOKEN_PREFIXES: RegExp[] = [
  /npm_[A-Za-z0-9]{30,1000}/,
  /pypi-AgEIcHlwaS5vcmc[\w-]{50,1000}/,
  /hv[sbr]\.[\w-]{24,1000}/,
  /dckr_pat_[\w-]{20,1000}/,
  /HRKU-[\w-]{30,1000}/,
  /do[opr]_v1_[a-f0-9]{64}/,
  /shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}/,
  /ATATT3[\w=-]{100,1000}/,
  /lin_api_[A-Za-z0-9]{40}/,
  /PMAK-[a-f0-9]{24}-[a-f0-9]{34}/,
  /gl(?:c|sa)_[A-Za-z0-9+/_]{32,1000}={0,3}/,
  /NRAK-[A-Z0-9]{27}/,
  /sntry[su]_[A-Za-z0-9+/=_]{40,1000}/,
  /ops_eyJ[A-Za-z0-9+/]{100,1000}={0,3}/,
  /dp\.pt\.[A-Za-z0-9]{40,1000}/,
  /pul-[a-f0-9]{40}/,
  /(?:pplx|xai)-[A-Za-z0-9]{40,1000}/,
  /gsk_[A-Za-z0-9]{40,1000}/,
  /rubygems_[a-f0-9]{48}/,
  /AGE-SECRET-KEY-1[0-9A-Z]{58}/,
  /ver:\d+-hint:\d+-[\w+/=-]{20,1000}/,
];

/** Known token shapes, each replaced whole by a `[REDACTED <kind>]` marker (kinds: lowercase words). */
const TOKENS: Array<[RegExp, Replacer]> = [
  [
    /-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|(?:[A-Za-z0-9+/=\s:,-]|\\+[nrt])*)/g,
    '[REDACTED private key]',
  ],
  [/\bxox[a-z](?:\.xox[a-z])?-[A-Za-z0-9-]{10,1000}/g, '[REDACTED slack token]'],
  [/\bxapp-[A-Za-z0-9-]{10,1000}/g, '[REDACTED slack token]'],
  [
    /\bhttps?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9/_-]+/g,
    '[REDACTED slack webhook]',
  ],
  [/\bsk-ant-[A-Za-z0-9_-]{10,1000}/g, '[REDACTED api key]'],
  [/\bsk-(?:proj|svcacct|admin)-[\w-]{20,1000}/g, '[REDACTED api key]'],
  [/\bsk-[A-Za-z0-9]{20,1000}/g, '[REDACTED api key]'],
  [/\b(?:sk|rk|pk)_(?:live|test|prod)_[A-Za-z0-9]{10,1000}/g, '[REDACTED api key]'],
  [/\bwhsec_[A-Za-z0-9+/=]{20,1000}/g, '[REDACTED webhook secret]'],
  [/\bgh[pousr]_[A-Za-z0-9]{20,1000}/g, '[REDACTED github token]'],
  [/\bgithub_pat_[A-Za-z0-9_]{20,1000}/g, '[REDACTED github token]'],
  [
    /\b(?:glpat|gldt|glrt|glptt|glcbt|glft|glimt|gloas|glsoat|glagent|glffct)-[\w.-]{20,1000}/g,
    '[REDACTED gitlab token]',
  ],
  [/\bGR1348941[\w-]{20,1000}/g, '[REDACTED gitlab token]'],
  [/\b(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b/g, '[REDACTED aws key id]'],
  [/\bAIza[0-9A-Za-z_-]{30,1000}/g, '[REDACTED google api key]'],
  [/\bya29\.[\w-]{20,1000}/g, '[REDACTED google oauth token]'],
  [/\b1\/\/0[\w-]{30,1000}/g, '[REDACTED google oauth token]'],
  [/\bGOCSPX-[\w-]{20,1000}/g, '[REDACTED google client secret]'],
  [/(?<![\w~.])[\w~.]{3}\dQ~[\w~.-]{31,34}(?![\w~.-])/g, '[REDACTED azure client secret]'],
  [/\bSK[0-9a-fA-F]{32}\b/g, '[REDACTED twilio api key]'],
  [/\bSG\.[\w-]{16,1000}\.[\w-]{16,1000}/g, '[REDACTED sendgrid key]'],
  [/\b(?:dapi|dose)[0-9a-f]{32}(?:-\d+)?\b/g, '[REDACTED databricks token]'],
  [/\bhf_[A-Za-z0-9]{30,1000}/g, '[REDACTED huggingface token]'],
  [/\bapi_org_[A-Za-z0-9]{30,1000}/g, '[REDACTED huggingface token]'],
  [/\bdbt[cu]_[\w-]{20,1000}/g, '[REDACTED dbt cloud token]'],
  [new RegExp(String.raw`\b(?:${TOKEN_PREFIXES.map((re) => re.source).join('|')})`, 'g'), '[REDACTED token]'],
  [/(?<![\w-])eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/g, '[REDACTED jwt]'],
];

/** Credentials found by where they sit: headers, CLI flags, URLs, connection strings, `key=value`. */
const PLACES: Array<[RegExp, Replacer]> = [
  [
    /(\b(?:Proxy-)?Authorization(?:\\?["'])?\s*[:=]\s*(?:\\?["'])?)(?:([A-Za-z][\w-]*)[ \t]+)?((?:\w+=\\?"[^"\r\n\\]*\\?"|[^\r\n"'\\])+)/gi,
    authHeader,
  ],
  [
    /(\b(?:X-[\w-]{0,60}?(?:Key|Token|Secret|Auth|Signature|Session|Password|Credential)[\w-]{0,60}|Api-?Key|(?:Private|Job|Deploy)-Token|Ocp-Apim-Subscription-Key|(?:Set-)?Cookie)(?:\\?["'])?[ \t]*:[ \t]*(?:\\?["'])?)(?![ \t]|\[REDACTED)[^\r\n"'\\]+/gi,
    `$1${R}`,
  ],
  [
    /(\b(?:Bearer|Basic)[ \t]+)([\w.~+/=-]{8,})/gi,
    (m, head, v) => (looksLikeCredential(v) ? `${head}${R}` : m),
  ],
  [
    /((?<![\w-])--?[A-Za-z-]*?(?:password|passwd|pass|passin|passout|pwd|passphrase|token|secret|api-?key|apikey|access-?key|secret-?key|credentials?|signature)(?:[ \t]+|=))(?!-)(?!\[REDACTED)(?:"[^"\n]*"|'[^'\n]*'|\\"[^"\n]*\\"|[^\s"'\\]+)/gi,
    `$1${R}`,
  ],
  [
    /(\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlsh|mariadb(?:-dump|-admin)?)\b[^\n]{0,500}?[ \t]-p)(?!\[REDACTED)(?:"[^"\n]*"|'[^'\n]*'|[^\s"']+)/g,
    `$1${R}`,
  ],
  [/((?<![\w-])(?:-u|--user)(?:[ \t]+|=)["']?[^\s:"']+:)(?!\[REDACTED)[^\s"']+/g, `$1${R}`],
  [
    /(\bmachine[ \t]+\S+(?:[ \t]+(?:login|account|port)[ \t]+\S+)*[ \t]+password[ \t]+)(?!\[REDACTED)\S+/g,
    `$1${R}`,
  ],
  [/^([ \t]*(?:password|passwd|account)[ \t]+)(?!\[REDACTED)(\S+)([ \t]*)$/gm, `$1${R}$3`],
  [/(\bjdbc:oracle:[a-z0-9]+:)([^/\s@:'"]+)\/(?!\[REDACTED)[^@\s'"]+@/gi, `$1$2/${R}@`],
  [
    /(\b(?:sqlplus|expdp|impdp|sqlldr|rman)(?:[ \t]+-\w+)*[ \t]+["']?[\w$#.]+)\/(?!\[REDACTED)[^@\s'"]+/g,
    `$1/${R}`,
  ],
  [/((?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/)([^\s:/@]*):(?!\[REDACTED)([^\s/?#]*)@/gi, `$1$2:${R}@`],
  // A key as the whole userinfo (Sentry DSNs, token-in-URL clones): long, no password part.
  [/((?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/)(?!\[REDACTED)[A-Za-z0-9_-]{16,}@/gi, `$1${R}@`],
  [
    /\b((?:Account|SharedAccess|Access|Primary|Secondary)Key|SharedAccessSignature|sig|code|(?:X-Amz-)?Signature)=(?!\[REDACTED)([A-Za-z0-9+/%=_-]{16,})/gi,
    `$1=${R}`,
  ],
  [
    /(\b(?:JSESSIONID|PHPSESSID|ASP\.NET_SessionId|connect\.sid|session_?id|session|_[\w-]*_session)=)(?!\[REDACTED)[^\s;,"']{8,}/gi,
    `$1${R}`,
  ],
  [
    new RegExp(String.raw`(${NAME})(${SEP})(\\?["'])(?!\[REDACTED)([^\n]{3,}?)(\3)`, 'gi'),
    (_m, name, sep, q, v) => `${keyValue(name, sep + q, v)}${q}`,
  ],
  [new RegExp(`(${NAME})(${SEP})(${BARE}{3,})`, 'gi'), (_m, name, sep, v) => keyValue(name, sep, v)],
  // `aws_secret_access_key wJal…` (CLI / config dumps): an identifier-like name, a space, a credential.
  [
    new RegExp(String.raw`(${NAME})([ \t]+)(${BARE}{8,})`, 'gi'),
    (m, name, gap, v) =>
      /[_.-]/.test(name) && !HARMLESS_NAME.test(name) && !v.startsWith('[REDACTED') && looksLikeCredential(v)
        ? `${name}${gap}${R}`
        : m,
  ],
  // A bare AWS secret access key (40 base64 characters, e.g. next to its AKIA id).
  [
    /(?:(?<![\w+/=.-])|(?<=\\[nrt]))[A-Za-z0-9+/]{40}(?![\w+/=-]|\.[A-Za-z0-9])/g,
    (m) => (looksLikeAwsSecret(m) ? '[REDACTED aws secret key]' : m),
  ],
];

const PATTERNS: Array<[RegExp, Replacer]> = [...TOKENS, ...PLACES];

/** Replaces anything that looks like a secret with a `[REDACTED …]` marker; idempotent. */
export function redact(text: string): string {
  let out = text;
  for (const [re, replacement] of PATTERNS) out = out.replace(re, replacement as string);
  return out;
}

/**
 * Redacts every string inside a JSON-like value (objects and arrays are copied, other values kept): for a
 * whole Report or an error record before it is stored or sent.
 */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v)])) as T;
  return value;
}

/** Truncates to `max` characters, saying how much was cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = `… [truncated ${text.length - max} chars]`;
  return text.slice(0, Math.max(0, max - note.length)) + note;
}

/**
 * Fences untrusted text as data for an LLM prompt: the content cannot close the fence, and the
 * model is told it is data, never instructions.
 */
export function fenceUntrusted(label: string, text: string): string {
  const safe = redact(text).replace(/<\s*\/\s*untrusted/gi, '<\\/untrusted');
  return `<untrusted source="${label.replace(/"/g, "'")}">\n${safe}\n</untrusted>`;
}
