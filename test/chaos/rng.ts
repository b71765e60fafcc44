/** A seeded PRNG (mulberry32) so a failing chaos or fuzz run can be replayed with its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed: CHAOS_SEED if set, else the clock (printed by each test so a failure can be replayed). */
export function chaosSeed(): number {
  const s = Number(process.env.CHAOS_SEED);
  return Number.isFinite(s) && s > 0 ? s : Date.now() % 2 ** 31;
}
