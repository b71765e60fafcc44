import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRelation, profileTables, quoteIdent } from '../../../src/adapters/dbt/warehouse.ts';

const ADMIN = 'postgres://postgres@127.0.0.1:5432/test';
const suffix = `${process.pid}_${Date.now().toString(36)}`;
const SCHEMA = `heal_wh_${suffix}`;
const ROLE = `heal_noselect_${suffix}`;
const admin = new pg.Client({ connectionString: ADMIN });

beforeAll(async () => {
  await admin.connect();
  const s = quoteIdent(SCHEMA);
  await admin.query(`create schema ${s}`);
  await admin.query(`create table ${s}.dim_people (person_id int, email text, joined date)`);
  await admin.query(
    `insert into ${s}.dim_people select g % 40, 'p' || g || '@example.com', date '2026-01-01' + g from generate_series(1, 50) g`,
  );
  await admin.query(`insert into ${s}.dim_people values (null, null, null)`);
  await admin.query(
    `create view ${s}.slow_view as select g as id from generate_series(1, 3) g, lateral (select pg_sleep(3)) z`,
  );
  await admin.query(`create table ${s}."odd ""name""" (x int)`);
  await admin.query(`create role ${quoteIdent(ROLE)} login`);
  await admin.query(`grant usage on schema ${s} to ${quoteIdent(ROLE)}`);
});

afterAll(async () => {
  await admin.query(`drop schema if exists ${quoteIdent(SCHEMA)} cascade`);
  await admin.query(`drop owned by ${quoteIdent(ROLE)}`).catch(() => {});
  await admin.query(`drop role if exists ${quoteIdent(ROLE)}`);
  await admin.end();
});

const rel = (t: string) => `"test".${quoteIdent(SCHEMA)}.${quoteIdent(t)}`;

describe('bounded read-only warehouse profiling on real PostgreSQL', () => {
  it('profiles schema, row count, a 20-row sample, column stats and the failing rows of a test query', async () => {
    const gaps: string[] = [];
    const testSql = `select person_id, count(*) as n from ${quoteIdent(SCHEMA)}.dim_people where person_id is not null group by 1 having count(*) > 1;`;
    const [p] = await profileTables(
      ADMIN,
      2000,
      [
        {
          nodeId: 'model.x.dim_people',
          relation: rel('dim_people'),
          columns: ['person_id', 'nope'],
          testSql,
        },
      ],
      gaps,
    );
    expect(gaps).toEqual([]);
    expect(p?.columns?.map((c) => c.name)).toEqual(['person_id', 'email', 'joined']);
    expect(p?.rowCount).toBe(51);
    expect(p?.sample).toHaveLength(20);
    expect(p?.stats).toEqual([{ column: 'person_id', nulls: 1, min: '0', max: '39' }]);
    expect(p?.failingRows?.length).toBe(10);
  });

  it('cuts a long query with the statement timeout and reports it as a gap, the rest goes on', async () => {
    const gaps: string[] = [];
    const out = await profileTables(
      ADMIN,
      300,
      [
        { nodeId: 'model.x.slow', relation: rel('slow_view'), columns: ['id'] },
        { nodeId: 'model.x.dim_people', relation: rel('dim_people'), columns: [] },
      ],
      gaps,
    );
    expect(gaps.join('\n')).toMatch(/cut by the statement timeout after 300 ms/);
    expect(out[1]?.rowCount).toBe(51);
  });

  it('reports a role without SELECT as a gap', async () => {
    const gaps: string[] = [];
    const url = `postgres://${ROLE}@127.0.0.1:5432/test`;
    const [p] = await profileTables(
      url,
      2000,
      [{ nodeId: 'model.x.dim_people', relation: rel('dim_people'), columns: ['email'] }],
      gaps,
    );
    expect(gaps.join('\n')).toMatch(/no SELECT/);
    expect(p?.rowCount).toBeUndefined();
  });

  it('quotes identifiers safely and refuses writes', async () => {
    const gaps: string[] = [];
    const [p] = await profileTables(
      ADMIN,
      2000,
      [{ nodeId: 'model.x.odd', relation: rel('odd "name"'), columns: [] }],
      gaps,
    );
    expect(p?.rowCount).toBe(0);
    const evil = await profileTables(
      ADMIN,
      2000,
      [
        {
          nodeId: 't',
          relation: rel('dim_people'),
          columns: [],
          testSql: `select 1) x; drop table ${SCHEMA}.dim_people; select (1`,
        },
      ],
      gaps,
    );
    expect(evil[0]?.failingRows).toBeUndefined();
    const still = await admin.query(`select count(*)::int as n from ${quoteIdent(SCHEMA)}.dim_people`);
    expect(still.rows[0]?.n).toBe(51);
  });

  it('reports an unreachable warehouse as a gap', async () => {
    const gaps: string[] = [];
    expect(
      await profileTables(
        'postgres://postgres@127.0.0.1:1/test',
        500,
        [{ nodeId: 'a', relation: 'a.b', columns: [] }],
        gaps,
      ),
    ).toEqual([]);
    expect(gaps[0]).toMatch(/Warehouse unreachable/);
  });

  it('parses relation names', () => {
    expect(parseRelation('"analytics"."prod"."fct_orders"')).toEqual({ schema: 'prod', table: 'fct_orders' });
    expect(parseRelation('`proj`.`ds`.`t`')).toEqual({ schema: 'ds', table: 't' });
    expect(parseRelation('db.sch.tbl')).toEqual({ schema: 'sch', table: 'tbl' });
  });
});
