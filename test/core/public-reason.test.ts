import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { publicReason } from '../../src/core/errors.ts';

describe('publicReason: failures in words fit for Slack', () => {
  it('never shows a zod issue dump', () => {
    const err = z.object({ incidentId: z.string() }).safeParse({}).error;
    expect(publicReason(err)).toBe('Heal read data it could not make sense of (details are in its logs)');
    expect(publicReason(new Error('[\n  {\n    "code": "invalid_type"'))).not.toMatch(/invalid_type/);
  });

  it("names Heal's store for ioredis errors, and keeps platform errors as they are", () => {
    expect(publicReason(new Error('Connection is closed.'))).toBe("Heal's store (Redis) is unreachable");
    expect(publicReason(new Error('Reached the max retries per request limit (which is 20).'))).toMatch(
      /store/,
    );
    const platform = 'History Server could not be pinned: connect ECONNREFUSED 127.0.0.1:18080';
    expect(publicReason(new Error(platform))).toBe(platform);
    expect(publicReason(new Error('x'.repeat(400)))).toHaveLength(298);
  });
});
