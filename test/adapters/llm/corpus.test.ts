import { describe, expect, it } from 'vitest';
import { buildBundle, looksLikeInjection } from '../../../src/adapters/llm/bundle.ts';
import { createVault, maskSecrets, unmaskAnswer } from '../../../src/adapters/llm/mask.ts';
import { assertNoSecrets, findSecrets, INJECTIONS, SECRETS } from '../../support/untrusted.ts';
import { evidence, rulesReport } from './reports.ts';

describe('the untrusted corpus', () => {
  it('has secrets embedded in their contexts and injections with a goal', () => {
    expect(SECRETS.length).toBeGreaterThanOrEqual(30);
    for (const s of SECRETS) expect(s.context).toContain(s.secret);
    expect(INJECTIONS.length).toBeGreaterThanOrEqual(12);
  });

  it.each(SECRETS)('masks $id ($kind) and never maps it back', (s) => {
    const vault = createVault();
    const masked = maskSecrets(s.context, vault);
    expect(findSecrets(masked)).toEqual([]);
    expect(masked).toMatch(/⟦SECRET_\d+⟧/);
    expect(JSON.stringify(vault)).not.toContain(s.secret);
    const back = unmaskAnswer(masked, vault);
    expect(back).not.toContain(s.secret);
    expect(back).toMatch(/\[REDACTED/);
  });

  it('assertNoSecrets names what leaked, in raw, JSON-escaped and URL-encoded form', () => {
    const pem = SECRETS.find((s) => s.id === 'private-key-pem');
    expect(() => assertNoSecrets(JSON.stringify({ text: pem?.context }))).toThrow(/private-key-pem/);
    expect(() => assertNoSecrets(`?q=${encodeURIComponent('Tr0ub4dor-fake-horse-42!')}`)).toThrow(
      /airflow-conn-uri/,
    );
    expect(() => assertNoSecrets('nothing to see', ['planted-1'])).not.toThrow();
    expect(() => assertNoSecrets('has planted-1', ['planted-1'])).toThrow(/planted-1/);
  });

  it.each(INJECTIONS)('fences and flags the injection $id in the bundle', (inj) => {
    const ev = [1, 2, 3].map((n) => evidence(n));
    ev.push(
      evidence(4, {
        source: 'spark.driver_log',
        title: 'driver stderr',
        excerpt: `INFO start\n${inj.text}\nINFO end`,
      }),
    );
    const bundle = buildBundle(rulesReport({ evidence: ev }));
    expect(looksLikeInjection(inj.text)).toBe(true);
    expect(bundle.flagged).toEqual(['E4']);
    // Exactly one real closing tag per fence: the injected ones are neutralised.
    const opens = bundle.text.match(/<untrusted source="/g)?.length ?? 0;
    const closes = bundle.text.match(/<\/untrusted>/g)?.length ?? 0;
    expect(closes).toBe(opens);
    const item = bundle.text.slice(bundle.text.indexOf('## E4'));
    const body = item.slice(item.indexOf('\n') + 1, item.indexOf('\n</untrusted>'));
    expect(body).not.toMatch(/<\s*\/\s*untrusted/i);
    expect(body).toContain('INFO end');
    expect(bundle.text).not.toMatch(/⟦(SECRET|EMAIL)_\d+⟧ —/); // forged placeholders do not survive
  });

  it('does not flag ordinary failure logs', () => {
    const lines = [
      'java.lang.OutOfMemoryError: Java heap space',
      'ExecutorLostFailure (executor 7 exited caused by one of the running tasks) Reason: Container killed by YARN for exceeding memory limits',
      'org.apache.spark.sql.AnalysisException: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column or function parameter with name `amount_usd` cannot be resolved.',
      'airflow.exceptions.AirflowTaskTimeout: Timeout, PID: 4242',
      'Database Error in model fct_orders: column "discount_code" does not exist',
      'INFO DAGScheduler: Job 3 failed: save at OrdersEnrichment.scala:88, took 812.4 s',
      "ModuleNotFoundError: No module named 'pyarrow'",
    ];
    for (const l of lines) expect(looksLikeInjection(l), l).toBe(false);
  });
});
